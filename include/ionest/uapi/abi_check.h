/* SPDX-License-Identifier: MIT */
/*
 * What the ABI headers (iommufd.h, vfio.h) share: the 8-byte-aligned 64-bit
 * field type and the assertions that pin every size and offset to the
 * documented ABI. Included by relative path so the headers work from any
 * include directory.
 */
#ifndef IONEST_UAPI_ABI_CHECK_H
#define IONEST_UAPI_ABI_CHECK_H

#include <stddef.h>
#include <stdint.h>

/* 64-bit fields are 8-byte aligned on every ABI (Linux __aligned_u64). */
#ifndef IONEST_UAPI_U64
#define IONEST_UAPI_U64 uint64_t __attribute__((aligned(8)))
#endif
#ifndef IONEST_UAPI_ASSERT
#ifdef __cplusplus
#define IONEST_UAPI_ASSERT(e, m) static_assert(e, m)
#else
#define IONEST_UAPI_ASSERT(e, m) _Static_assert(e, m)
#endif
#endif
/* Pin a field's offset (and the struct's size) to the ABI. */
#define IONEST_UAPI_OFF(s, f, o) \
	IONEST_UAPI_ASSERT(offsetof(struct s, f) == (o), #s "." #f)
#define IONEST_UAPI_SIZE(s, n) \
	IONEST_UAPI_ASSERT(sizeof(struct s) == (n), "sizeof " #s)

#endif
