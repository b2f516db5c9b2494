// SPDX-License-Identifier: MIT
/* Machines: IOMMUs bound to drivers by model, PCI functions behind them. */
#include <errno.h>
#include <string.h>

#include "fixture.h"

static void test_add_iommu(void **state)
{
	struct ionest_machine *m = ionest_machine_new();
	struct ionest_hw *hw = ionest_mock_iommu_new(NULL);
	struct ionest_hw *smmu = ionest_smmuv3_new(NULL);

	assert_non_null(m);
	assert_non_null(hw);
	assert_int_equal(ionest_machine_add_iommu(NULL, "a", hw), -EINVAL);
	assert_int_equal(ionest_machine_add_iommu(m, "", hw), -EINVAL);
	assert_int_equal(ionest_machine_add_iommu(m, NULL, hw), -EINVAL);
	assert_int_equal(ionest_machine_add_iommu(
				 m, "a-name-that-is-far-too-long-for-it", hw),
			 -EINVAL);
	assert_int_equal(ionest_machine_add_iommu(m, "a", NULL), -EINVAL);
	assert_int_equal(ionest_machine_add_iommu(m, "a", hw), 0);
	assert_ptr_equal(ionest_machine_iommu(m, "a"), hw);
	assert_null(ionest_machine_iommu(m, "b"));
	assert_string_equal(ionest_hw_model(hw), "mock");
	/* The name is taken: the caller keeps the second model. */
	{
		struct ionest_hw *hw2 = ionest_mock_iommu_new(NULL);

		assert_int_equal(ionest_machine_add_iommu(m, "a", hw2),
				 -EEXIST);
		ionest_hw_free(hw2);
	}
	/* A model without a built-in driver (until its driver lands). */
	if (smmu) {
		int rc = ionest_machine_add_iommu(m, "smmu", smmu);

		assert_true(rc == 0 || rc == -ENODEV);
		if (rc)
			ionest_hw_free(smmu);
	}
	/* Bad mock configurations. */
	{
		struct ionest_mock_config c = { .aperture_start = 10,
						.aperture_last = 5 };

		assert_null(ionest_mock_iommu_new(&c));
		c = (struct ionest_mock_config){ .msi_start = 9,
						 .msi_last = 8 };
		assert_null(ionest_mock_iommu_new(&c));
	}
	ionest_machine_free(m);
	ionest_machine_free(NULL);
}

static void test_add_device(void **state)
{
	struct ionest_machine *m = ionest_machine_new();
	struct ionest_device_config dc = { .iommu = "a", .rid = 0x10 };

	assert_int_equal(ionest_machine_add_device(m, &dc), -ENOENT);
	assert_int_equal(ionest_machine_add_iommu(m, "a",
						  ionest_mock_iommu_new(NULL)),
			 0);
	assert_int_equal(ionest_machine_add_device(m, NULL), -EINVAL);
	assert_int_equal(ionest_machine_add_device(m, &dc), 0);
	/* One RID per IOMMU. */
	assert_int_equal(ionest_machine_add_device(m, &dc), -EEXIST);
	dc.rid = 0x11;
	dc.pasid_bits = 21;
	assert_int_equal(ionest_machine_add_device(m, &dc), -EINVAL);
	dc.pasid_bits = 20;
	assert_int_equal(ionest_machine_add_device(m, &dc), 1);
	/* The mock has 16-bit RIDs. */
	dc.rid = 0x10000;
	assert_int_equal(ionest_machine_add_device(m, &dc), -EINVAL);
	dc.iommu = NULL;
	assert_int_equal(ionest_machine_add_device(m, &dc), -EINVAL);
	/* Many functions: indexes keep counting. */
	dc.iommu = "a";
	for (uint32_t i = 0; i < 600; i++) {
		dc.rid = 0x1000 + i;
		assert_int_equal(ionest_machine_add_device(m, &dc),
				 (int)(2 + i));
	}
	ionest_machine_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_add_iommu),
		cmocka_unit_test(test_add_device),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
