/* The C API of onedrive-native for Swift: the repository's header, included
 * in place (no copy, nothing to keep in sync). The XCFramework made by
 * build-xcframework.sh carries its own copy of onedrive.h instead. */
#ifndef CONEDRIVE_SHIM_H
#define CONEDRIVE_SHIM_H
#include "../../../../include/onedrive.h"
#endif
