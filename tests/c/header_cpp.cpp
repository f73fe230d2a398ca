// The header compiles as C++17 and its functions link from C++.
#include "onedrive.h"

#include <cstdio>

int main() {
    const char *v = od_version();
    od_status s = od_client_new(nullptr, nullptr, 0, nullptr);
    std::printf("header_cpp: od_version %s, NULL out gives %d (%s)\n", v, static_cast<int>(s), od_status_str(s));
    return s == OD_ERR_NULL_ARGUMENT ? 0 : 1;
}
