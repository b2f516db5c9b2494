// SPDX-License-Identifier: MIT
/* Machine files: the `scenario` section - its shape, and every error with
 * its line and field. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "machine/config.h"
#include "test_util.h"
#include "util/alloc.h"

#define HDR                                                \
	"iommus:\n"                                        \
	"  - name: io0\n"                                  \
	"    model: smmuv3\n"                              \
	"devices:\n"                                       \
	"  - {name: nic0, rid: 8, iommu: io0, pasid: 4}\n" \
	"  - {name: nvme0, rid: 16, iommu: io0}\n"

static int parse(const char *yaml, struct machine_config **c, char *err,
		 size_t len)
{
	return machine_config_parse("m.yaml", yaml, strlen(yaml), c, err, len);
}

static void test_full(void **state)
{
	struct machine_config *c = NULL;
	const struct mcfg_scenario *s;
	char err[256] = "";
	int rc = parse(HDR "scenario:\n"
			   "  host:\n"
			   "    - devices: [nvme0]\n"
			   "      map:\n"
			   "        - {iova: 0x100000, size: 0x2000}\n"
			   "        - {iova: 0x200000, size: 0x1000, perm: r}\n"
			   "  vms:\n"
			   "    - name: vm1\n"
			   "      ram: 0x200000\n"
			   "      gpa: 0x40000000\n"
			   "      devices:\n"
			   "        - device: nic0\n"
			   "          map:\n"
			   "            - {iova: 0x1000, gpa: 0x40100000, "
			   "size: 0x1000, perm: rwxp}\n"
			   "        - device: vfio0\n"
			   "          pasid: 3\n",
		       &c, err, sizeof(err));

	if (rc)
		print_error("%s\n", err);
	assert_int_equal(rc, 0);
	s = c->scenario;
	assert_non_null(s);
	assert_int_equal(s->ndom, 2);
	assert_int_equal(s->ndev, 3);
	assert_int_equal(s->nmap, 3);
	assert_false(s->dom[0].vm);
	assert_string_equal(s->dom[0].name, "host0");
	assert_int_equal(s->dom[0].ndev, 1);
	assert_int_equal(s->dev[s->dom[0].dev0].device, 1);
	assert_int_equal(s->dev[s->dom[0].dev0].pasid, IONEST_NO_PASID);
	assert_int_equal(s->dom[0].nmap, 2);
	assert_int_equal(s->map[0].perm, MCFG_PERM_R | MCFG_PERM_W);
	assert_int_equal(s->map[1].perm, MCFG_PERM_R);
	assert_int_equal(s->map[1].line, 12);
	assert_true(s->dom[1].vm);
	assert_string_equal(s->dom[1].name, "vm1");
	assert_int_equal(s->dom[1].ram, 0x200000);
	assert_int_equal(s->dom[1].gpa, 0x40000000);
	assert_int_equal(s->dom[1].ndev, 2);
	assert_int_equal(s->dev[s->dom[1].dev0].nmap, 1);
	assert_int_equal(s->map[s->dev[s->dom[1].dev0].map0].perm,
			 MCFG_PERM_R | MCFG_PERM_W | MCFG_PERM_X | MCFG_PERM_P);
	assert_int_equal(s->map[2].gpa, 0x40100000);
	assert_int_equal(s->dev[s->dom[1].dev0 + 1].device, 0);
	assert_int_equal(s->dev[s->dom[1].dev0 + 1].pasid, 3);
	assert_int_equal(s->dev[s->dom[1].dev0 + 1].nmap, 0);
	machine_config_free(c);

	/* Empty and null sections. */
	assert_int_equal(parse(HDR "scenario:\n  host:\n  vms: []\n", &c, err,
			       sizeof(err)),
			 0);
	assert_int_equal(c->scenario->ndom, 0);
	machine_config_free(c);
	assert_int_equal(parse(HDR "scenario:\n", &c, err, sizeof(err)), 0);
	assert_null(c->scenario);
	machine_config_free(c);
}

static const struct {
	const char *yaml, *msg;
} errors[] = {
	{ "scenario:\n  guests: []\n",
	  "m.yaml:8: scenario: unknown key 'guests'" },
	{ "scenario:\n  host:\n    - map: []\n",
	  "m.yaml:9: scenario.host[0]: missing key 'devices'" },
	{ "scenario:\n  host:\n    - devices: []\n",
	  "m.yaml:9: scenario.host[0].devices: a host domain needs a device" },
	{ "scenario:\n  host:\n    - devices: [gpu0]\n",
	  "m.yaml:9: scenario.host[0].devices[0]: no device 'gpu0' (a device "
	  "name or vfioN)" },
	{ "scenario:\n  host:\n    - devices: [vfio7]\n",
	  "m.yaml:9: scenario.host[0].devices[0]: no device 'vfio7'" },
	{ "scenario:\n  host:\n    - devices: [nvme0, nvme0]\n",
	  "m.yaml:9: scenario.host[0].devices[1]: the RID of 'nvme0' is "
	  "already in a domain (line 9)" },
	{ "scenario:\n  host:\n    - devices: [nvme0]\n"
	  "      map: [{iova: 0x1800, size: 0x1000}]\n",
	  "m.yaml:10: scenario.host[0].map[0].iova: 0x1800 is not a multiple "
	  "of 4K" },
	{ "scenario:\n  host:\n    - devices: [nvme0]\n"
	  "      map: [{iova: 0x1000, size: 0}]\n",
	  "m.yaml:10: scenario.host[0].map[0].size: expected an integer 1.." },
	{ "scenario:\n  host:\n    - devices: [nvme0]\n"
	  "      map: [{iova: 0x1000}]\n",
	  "m.yaml:10: scenario.host[0].map[0]: missing key 'size'" },
	{ "scenario:\n  host:\n    - devices: [nvme0]\n"
	  "      map: [{iova: 0x1000, gpa: 0, size: 0x1000}]\n",
	  "m.yaml:10: scenario.host[0].map[0]: 'gpa' is for VM maps" },
	{ "scenario:\n  host:\n    - devices: [nvme0]\n"
	  "      map: [{iova: 0x1000, size: 0x1000, perm: rx}]\n",
	  "m.yaml:10: scenario.host[0].map[0].perm: expected r or rw" },
	{ "scenario:\n  host:\n    - devices: [nvme0]\n"
	  "      map: [{iova: 0x1000, size: 0x80000000}]\n",
	  "m.yaml:10: scenario.host[0].map[0]: a host map is at most 1 GiB" },
	{ "scenario:\n  host:\n    - devices: [nvme0]\n"
	  "      map:\n        - {iova: 0x1000, size: 0x2000}\n"
	  "        - {iova: 0x2000, size: 0x1000}\n",
	  "m.yaml:12: scenario.host[0].map[1]: overlaps scenario.host[0].map[0]" },
	{ "scenario:\n  host:\n    - devices: [nvme0]\n"
	  "      map: [{iova: 0xfffffffff000, size: 0x2000}]\n",
	  "m.yaml:10: scenario.host[0].map[0]: the range passes 2^48" },
	{ "scenario:\n  vms:\n    - ram: 0x1000\n      devices: []\n",
	  "m.yaml:9: scenario.vms[0]: missing key 'name'" },
	{ "scenario:\n  vms:\n    - {name: a, devices: []}\n",
	  "m.yaml:9: scenario.vms[0]: missing key 'ram'" },
	{ "scenario:\n  vms:\n    - {name: a, ram: 0x1001, devices: []}\n",
	  "m.yaml:9: scenario.vms[0].ram: 0x1001 is not a multiple of 4K" },
	{ "scenario:\n  vms:\n    - {name: a, ram: 0x80000000, devices: []}\n",
	  "m.yaml:9: scenario.vms[0].ram: at most 1 GiB of RAM" },
	{ "scenario:\n  vms:\n    - {name: a, ram: 0x1000}\n",
	  "m.yaml:9: scenario.vms[0]: missing key 'devices'" },
	{ "scenario:\n  vms:\n    - {name: a, ram: 0x1000, devices: []}\n"
	  "    - {name: a, ram: 0x1000, devices: []}\n",
	  "m.yaml:10: scenario.vms[1].name: 'a' is already a domain's name" },
	{ "scenario:\n  vms:\n    - {name: a, ram: 0x2000, gpa: 0xfffffffff000, "
	  "devices: []}\n",
	  "m.yaml:9: scenario.vms[0].gpa: the RAM passes 2^48" },
	{ "scenario:\n  vms:\n    - {name: a, ram: 0x1000, devices: "
	  "[{device: nvme0, pasid: 1}]}\n",
	  "m.yaml:9: scenario.vms[0].devices[0].pasid: device 'nvme0' has no "
	  "PASID capability" },
	{ "scenario:\n  vms:\n    - {name: a, ram: 0x1000, devices: "
	  "[{device: nic0, pasid: 16}]}\n",
	  "m.yaml:9: scenario.vms[0].devices[0].pasid: expected an integer "
	  "0..15" },
	{ "scenario:\n  vms:\n    - {name: a, ram: 0x1000, devices: "
	  "[{device: nic0, pasid: 1}, {device: nic0, pasid: 1}]}\n",
	  "m.yaml:9: scenario.vms[0].devices[1]: PASID 1 of 'nic0' is already "
	  "in a domain" },
	{ "scenario:\n  vms:\n    - {name: a, ram: 0x1000, devices: "
	  "[{pasid: 1}]}\n",
	  "m.yaml:9: scenario.vms[0].devices[0]: missing key 'device'" },
	{ "scenario:\n  vms:\n    - {name: a, ram: 0x1000, devices: "
	  "[{device: nic0, map: [{iova: 0, size: 0x1000}]}]}\n",
	  "m.yaml:9: scenario.vms[0].devices[0].map[0]: missing key 'gpa'" },
	{ "scenario:\n  vms:\n    - {name: a, ram: 0x1000, devices: "
	  "[{device: nic0, map: [{iova: 0, gpa: 0, size: 0x1000, "
	  "perm: w}]}]}\n",
	  "m.yaml:9: scenario.vms[0].devices[0].map[0].perm: expected r, w, "
	  "x, p letters with r" },
	{ "scenario:\n  vms:\n    - {name: a, ram: 0x1000, devices: "
	  "[{device: nic0, map: [{iova: 0, gpa: 0, size: 0x1000, "
	  "perm: rr}]}]}\n",
	  "m.yaml:9: scenario.vms[0].devices[0].map[0].perm: expected r, w" },
	{ "scenario:\n  host:\n    - {name: x, devices: [nvme0]}\n"
	  "  vms:\n    - {name: x, ram: 0x1000, devices: []}\n",
	  "m.yaml:11: scenario.vms[0].name: 'x' is already a domain's name" },
	{ "scenario: [1]\n", "m.yaml:7: scenario: expected a mapping" },
};

static void test_errors(void **state)
{
	for (size_t i = 0; i < sizeof(errors) / sizeof(errors[0]); i++) {
		struct machine_config *c = (void *)1;
		char yaml[1024], err[256] = "";
		int rc;

		snprintf(yaml, sizeof(yaml), "%s%s", HDR, errors[i].yaml);
		rc = parse(yaml, &c, err, sizeof(err));
		if (rc != -EINVAL ||
		    strncmp(err, errors[i].msg, strlen(errors[i].msg)))
			fail_msg("case %zu: rc %d, '%s', expected '%s'", i, rc,
				 err, errors[i].msg);
		assert_null(c);
	}
}

/* Every allocation of the section failing once: an error, no leak. */
static void test_alloc_failures(void **state)
{
	const char *yaml = HDR
		"scenario:\n"
		"  host:\n    - {devices: [nvme0], map: [{iova: 0, "
		"size: 0x1000}]}\n"
		"  vms:\n    - {name: a, ram: 0x1000, devices: "
		"[{device: nic0, map: [{iova: 0, gpa: 0, size: "
		"0x1000}]}]}\n";
	unsigned long n = 0;
	int rc;

	do {
		struct machine_config *c = NULL;
		char err[256];

		fault_inject_nth(++n);
		rc = parse(yaml, &c, err, sizeof(err));
		fault_inject_nth(0);
		if (rc) {
			assert_int_equal(rc, -ENOMEM);
			assert_null(c);
		}
		machine_config_free(c);
	} while (rc && n < 1000);
	assert_int_equal(rc, 0);
	assert_true(n > 5);
}

static void test_device_lookup(void **state)
{
	struct machine_config *c = NULL;
	char err[256];

	assert_int_equal(parse(HDR, &c, err, sizeof(err)), 0);
	assert_ptr_equal(machine_config_device(c, "nic0"), &c->devices[0]);
	assert_ptr_equal(machine_config_device(c, "vfio1"), &c->devices[1]);
	assert_null(machine_config_device(c, "vfio2"));
	assert_null(machine_config_device(c, "vfio"));
	assert_null(machine_config_device(c, "vfio1x"));
	assert_null(machine_config_device(c, ""));
	assert_null(machine_config_device(c, NULL));
	machine_config_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_alloc_failures),
		cmocka_unit_test(test_device_lookup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
