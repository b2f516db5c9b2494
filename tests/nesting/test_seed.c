// SPDX-License-Identifier: MIT
#include <errno.h>
#include <string.h>

#include "scenario/checks.h"
#include "scenario/seed.h"
#include "test_util.h"

static void build(const char *model)
{
	struct seed_opts o = { .iommu = model, .log = stderr };
	struct seed *s;
	char err[256];
	int rc = seed_new(&o, &s, err, sizeof(err));

	if (rc)
		print_message("# %s\n", err);
	assert_int_equal(rc, 0);
	for (int i = 0; i < s->npaths; i++) {
		struct seed_path *p = &s->paths[i];
		uint8_t b[16] = { 0x5a, (uint8_t)i };

		rc = ionest_device_dma(s->m, p->dev, p->pasid, p->iova + 100, b,
				       sizeof(b), IONEST_DMA_TO_MEM);
		print_message("# %s: rc %d, mem %02x %02x\n", p->name, rc,
			      p->mem[100], p->mem[101]);
	}
	{
		struct check_result res[CHECKS_MAX];
		int n = checks_run_all(s, res, CHECKS_MAX);

		for (int i = 0; i < n; i++)
			print_message("# %-22s %s  %s\n", res[i].name,
				      res[i].ok ? "ok" : "FAIL", res[i].detail);
	}
	seed_free(s);
}

static void test_smmu(void **state)
{
	build("smmuv3");
}

static void test_vtd(void **state)
{
	build("vtd");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_smmu),
		cmocka_unit_test(test_vtd),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
