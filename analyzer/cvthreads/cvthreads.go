package cvthreads

/*
#cgo !windows pkg-config: opencv4
#cgo CXXFLAGS: --std=c++11
int matthan_cv_set_threads(int n);
*/
import "C"

// Set makes OpenCV use at most n threads per call (1: run every call on
// the calling thread; a negative n restores OpenCV's default) and returns
// the number now in force. It applies to the whole process.
func Set(n int) int { return int(C.matthan_cv_set_threads(C.int(n))) }
