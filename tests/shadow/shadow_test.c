// SPDX-License-Identifier: MIT
/* Helpers both shadow pair harnesses use (shadow_test.h). */
#include <inttypes.h>
#include <stdio.h>

#include "shadow/shadow_test.h"
#include "test_util.h"

void shadow_same_fault(const int frc[2], const struct ionest_dma_fault f[2],
		       uint64_t iova)
{
	assert_int_equal(frc[0], frc[1]);
	if (frc[0])
		return;
	if (f[0].code != f[1].code || f[0].fault_addr != f[1].fault_addr)
		fprintf(stderr,
			"fault iova %#" PRIx64 ": hw %#x@%#" PRIx64
			" s2 %d rec %d, shadow %#x@%#" PRIx64 " s2 %d rec %d\n",
			iova, f[0].code, f[0].fault_addr, f[0].stage2,
			f[0].recorded, f[1].code, f[1].fault_addr, f[1].stage2,
			f[1].recorded);
	assert_int_equal(f[0].count, f[1].count);
	assert_int_equal(f[0].iova, f[1].iova);
	assert_int_equal(f[0].fault_addr, f[1].fault_addr);
	assert_int_equal(f[0].pasid, f[1].pasid);
	assert_int_equal(f[0].access, f[1].access);
	assert_int_equal(f[0].status, f[1].status);
	assert_int_equal(f[0].code, f[1].code);
	assert_int_equal(f[0].recorded, f[1].recorded);
	assert_int_equal(f[0].stage2, f[1].stage2);
}
