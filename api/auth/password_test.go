package auth

import (
	"errors"
	"strings"
	"testing"
)

// cheap keeps tests fast; the format and checks are the same.
var cheap = Params{Memory: 64, Time: 1, Threads: 1}

func TestHashAndVerify(t *testing.T) {
	h, err := HashPassword("Mường-Thanh-2024", cheap)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=64,t=1,p=1$") || strings.Contains(h, "Mường") {
		t.Fatalf("hash %q", h)
	}
	h2, _ := HashPassword("Mường-Thanh-2024", cheap)
	if h == h2 {
		t.Error("two hashes of one password are equal: no salt")
	}
	for _, tc := range []struct {
		pw   string
		want bool
	}{
		{"Mường-Thanh-2024", true},
		{"Mường-Thanh-2025", false},
		{"mường-thanh-2024", false},
		{"", false},
		{strings.Repeat("x", MaxPasswordBytes+1), false},
	} {
		ok, err := VerifyPassword(h, tc.pw)
		if err != nil || ok != tc.want {
			t.Errorf("verify %.20q: %v, %v; want %v", tc.pw, ok, err, tc.want)
		}
	}
	// The default parameters round-trip too.
	hd, err := HashPassword("Default-params-1", DefaultParams)
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := VerifyPassword(hd, "Default-params-1"); !ok || err != nil {
		t.Errorf("default params: %v %v", ok, err)
	}
	if _, err := HashPassword("x", Params{Memory: 1 << 30, Time: 1, Threads: 1}); err == nil {
		t.Error("absurd memory accepted")
	}
}

// badHashes are malformed or hostile PHC strings; they seed the fuzzer.
var badHashes = []string{
	"",
	"plain",
	"$argon2i$v=19$m=64,t=1,p=1$c2FsdHNhbHRzYWx0$a2V5a2V5a2V5a2V5a2V5a2V5",
	"$argon2id$v=16$m=64,t=1,p=1$c2FsdHNhbHRzYWx0$a2V5a2V5a2V5a2V5a2V5a2V5",
	"$argon2id$v=19$m=4294967295,t=1,p=1$c2FsdHNhbHRzYWx0$a2V5a2V5a2V5a2V5a2V5a2V5",
	"$argon2id$v=19$m=64,t=1000,p=1$c2FsdHNhbHRzYWx0$a2V5a2V5a2V5a2V5a2V5a2V5",
	"$argon2id$v=19$m=64,t=1,p=0$c2FsdHNhbHRzYWx0$a2V5a2V5a2V5a2V5a2V5a2V5",
	"$argon2id$v=19$m=64,t=1,p=255$c2FsdHNhbHRzYWx0$a2V5a2V5a2V5a2V5a2V5a2V5",
	"$argon2id$v=19$t=1,m=64,p=1$c2FsdHNhbHRzYWx0$a2V5a2V5a2V5a2V5a2V5a2V5",
	"$argon2id$v=19$m=64,t=1,p=1,x=2$c2FsdHNhbHRzYWx0$a2V5a2V5a2V5a2V5a2V5a2V5",
	"$argon2id$v=19$m=64,t=1,p=1$!!!$a2V5a2V5a2V5a2V5a2V5a2V5",
	"$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHRzYWx0$",
	"$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHRzYWx0$a2V5a2V5a2V5a2V5a2V5a2V5$extra",
	"$argon2id$v=19$m=-64,t=1,p=1$c2FsdHNhbHRzYWx0$a2V5a2V5a2V5a2V5a2V5a2V5",
}

func TestVerifyMalformed(t *testing.T) {
	for _, h := range badHashes {
		if ok, err := VerifyPassword(h, "x"); ok || !errors.Is(err, ErrBadHash) {
			t.Errorf("VerifyPassword(%q) = %v, %v; want ErrBadHash", h, ok, err)
		}
	}
}

// FuzzVerifyPassword: stored hashes come from the database, which may be
// altered: parsing never panics and never accepts out-of-bounds costs.
func FuzzVerifyPassword(f *testing.F) {
	good, _ := HashPassword("Seed-password-1", cheap)
	f.Add(good, "Seed-password-1")
	for _, h := range badHashes {
		f.Add(h, "x")
	}
	f.Fuzz(func(t *testing.T, encoded, pw string) {
		h, err := parseHash(encoded)
		if err != nil {
			return
		}
		if h.p.Memory > maxMemory || h.p.Time > maxTime || h.p.Threads > maxThreads || h.p.Threads == 0 {
			t.Fatalf("accepted out-of-bounds params %+v", h.p)
		}
		if h.p.Memory <= 4096 && h.p.Time <= 2 { // keep each run cheap
			VerifyPassword(encoded, pw)
		}
	})
}

// passwordCases are the rules' table; they seed FuzzCheckPassword.
var passwordCases = []struct {
	user, pw string
	ok       bool
}{
	{"lan", "Correct-horse-9", true},
	{"lan", "correct horse battery", false}, // 1 class + space = 2 classes
	{"lan", "correct horse 42", true},       // lower, space, digit
	{"lan", "Short-1a", false},
	{"lan", "AAAAAAAAAAAAAAAA1!", true},
	{"lan", "aaaaaaaaaaaaaaaa", false},
	{"lan", "Xin-chao-Lan-2024", false}, // contains the user name, any case
	{"nguyen.van.a", "Nguyen.Van.A.2024!", false},
	{"lan", "Đèo-Pha-Đin-1978", true}, // Vietnamese letters count by case
	{"lan", "Mường Thanh 12", true},
	{"lan", "ĐÈOPHAĐIN1978", false}, // upper + digits only
	{"lan", "Tab\tinside-password1", false},
	{"lan", "Invalid-\xff-utf8-1", false},
	{"lan", strings.Repeat("Aa1-", 300), false},
	{"", "Correct-horse-9", true},
}

func TestCheckPassword(t *testing.T) {
	for _, tc := range passwordCases {
		err := CheckPassword(tc.user, tc.pw)
		if (err == nil) != tc.ok {
			t.Errorf("CheckPassword(%q, %.30q) = %v, want ok %v", tc.user, tc.pw, err, tc.ok)
		}
		if err != nil {
			if !errors.Is(err, ErrWeakPassword) {
				t.Errorf("%.30q: %v is not ErrWeakPassword", tc.pw, err)
			}
			if strings.Contains(err.Error(), tc.pw) {
				t.Errorf("error %q repeats the password", err)
			}
		}
	}
}

// FuzzCheckPassword: passwords are untrusted input: no panic, the error
// never repeats the password, and an accepted password keeps every rule.
func FuzzCheckPassword(f *testing.F) {
	for _, tc := range passwordCases {
		f.Add(tc.user, tc.pw)
	}
	f.Fuzz(func(t *testing.T, user, pw string) {
		err := CheckPassword(user, pw)
		if err != nil {
			if len(pw) >= 4 && strings.Contains(err.Error(), pw) {
				t.Fatalf("error %q repeats the password", err)
			}
			return
		}
		if len([]rune(pw)) < MinPasswordLength || len(pw) > MaxPasswordBytes {
			t.Fatalf("accepted %q: length", pw)
		}
		if u := strings.ToLower(strings.TrimSpace(user)); u != "" && strings.Contains(strings.ToLower(pw), u) {
			t.Fatalf("accepted %q containing user %q", pw, user)
		}
	})
}
