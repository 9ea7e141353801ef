// The C entry point of package cvthreads.
#include <opencv2/core.hpp>

extern "C" int matthan_cv_set_threads(int n) {
	cv::setNumThreads(n);
	return cv::getNumThreads();
}
