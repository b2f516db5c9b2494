/* SPDX-License-Identifier: MIT */
/* Symbol visibility: the library is built with -fvisibility=hidden and a
 * version script; only declarations marked IONEST_API are exported. */
#ifndef IONEST_EXPORT_H
#define IONEST_EXPORT_H

#if defined(IONEST_BUILDING_LIB)
#define IONEST_API __attribute__((visibility("default")))
#else
#define IONEST_API
#endif

#endif
