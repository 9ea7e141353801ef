package core

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/matthan/matthan/api/audit"
	"github.com/matthan/matthan/api/auth"
	"github.com/matthan/matthan/api/store"
)

// testAdminPassword is the password of the ICT administrator tests create.
const testAdminPassword = "Kiem-tra-2026!"

// createAdmin registers an ICT-department administrator in the metadata
// store under data, as "matthan admin create-ict-admin" does.
func createAdmin(t *testing.T, data string) {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, store.Path(data), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	by := audit.Actor{Username: "test"}
	ict, err := st.EnsureICTAgency(ctx, by)
	if err != nil {
		t.Fatal(err)
	}
	hash, err := auth.HashPassword(testAdminPassword, auth.DefaultParams)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateUser(ctx, by, store.User{AgencyID: ict.ID, Username: "admin", Role: store.RoleICTAdmin}, hash); err != nil {
		t.Fatal(err)
	}
}

// apiClient calls the engine's API as the test administrator.
type apiClient struct {
	base, token string
}

// login signs the administrator in and returns a client with its bearer
// token.
func login(t *testing.T, base string) *apiClient {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"username": "admin", "password": testAdminPassword})
	resp, err := http.Post(base+"/api/v1/login", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Token string `json:"token"`
	}
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || json.Unmarshal(b, &out) != nil || out.Token == "" {
		t.Fatalf("login: %s: %s", resp.Status, b)
	}
	return &apiClient{base: base, token: out.Token}
}

// get fetches path with the bearer token and returns the body, failing the
// test on any status but 200.
func (c *apiClient) get(t *testing.T, path string) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, c.base+path, nil)
	req.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s: %s", path, resp.Status, b)
	}
	return string(b)
}
