// SPDX-License-Identifier: MIT
/* Machine files: the YAML schema, every error with its line and field, the
 * builder, and the public loaders. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "machine/config.h"
#include "machine/machine.h"
#include "test_util.h"
#include "util/alloc.h"

#ifndef IONEST_EXAMPLES
#define IONEST_EXAMPLES "examples"
#endif

static int parse(const char *yaml, struct machine_config **c, char *err,
		 size_t len)
{
	return machine_config_parse("m.yaml", yaml, strlen(yaml), c, err, len);
}

static struct machine_config *parse_ok(const char *yaml)
{
	struct machine_config *c = NULL;
	char err[256];
	int rc = parse(yaml, &c, err, sizeof(err));

	if (rc)
		print_error("unexpected error: %s\n", err);
	assert_int_equal(rc, 0);
	assert_non_null(c);
	return c;
}

#define MOCK_HDR "iommus:\n  - name: io0\n    model: mock\n"

static void test_minimal(void **state)
{
	struct machine_config *c = parse_ok(MOCK_HDR);

	assert_int_equal(c->niommus, 1);
	assert_int_equal(c->ndevices, 0);
	assert_string_equal(c->iommus[0].name, "io0");
	assert_int_equal(c->iommus[0].model, MCFG_MOCK);
	assert_int_equal(c->iommus[0].nesting, MCFG_NEST_AUTO);
	assert_int_equal(c->iommus[0].nover, 0);
	assert_int_equal(c->iommus[0].line, 2);
	assert_string_equal(c->file, "m.yaml");
	machine_config_free(c);
}

static void test_full_device(void **state)
{
	struct machine_config *c = parse_ok("version: 1\n" MOCK_HDR
					    "    nesting: shadow\n"
					    "devices:\n"
					    "  - name: nic0\n"
					    "    bdf: \"0000:1a:1f.7\"\n"
					    "    iommu: io0\n"
					    "    pasid: 20\n"
					    "    ats: true\n"
					    "    pri: True\n"
					    "    pasid_exec: 1\n"
					    "    pasid_priv: FALSE\n"
					    "    vfio: 0\n"
					    "  - rid: 0x10\n"
					    "    iommu: io0\n");
	const struct mcfg_device *d = &c->devices[0];

	assert_int_equal(c->iommus[0].nesting, MCFG_NEST_SHADOW);
	assert_int_equal(c->ndevices, 2);
	assert_string_equal(d->name, "nic0");
	assert_int_equal(d->rid, 0x1a << 8 | 0x1f << 3 | 7);
	assert_true(d->has_bdf);
	assert_int_equal(d->pasid_bits, 20);
	assert_true(d->ats && d->pri && d->pasid_exec);
	assert_false(d->pasid_priv);
	assert_int_equal(d->vfio, 0);
	assert_int_equal(d->line, 7);
	d = &c->devices[1];
	assert_int_equal(d->rid, 0x10);
	assert_false(d->has_bdf);
	assert_string_equal(d->name, "");
	assert_int_equal(d->pasid_bits, 0);
	assert_false(d->ats || d->pri);
	assert_int_equal(d->vfio, 1);
	machine_config_free(c);
}

static void test_vfio_numbers(void **state)
{
	/* Given numbers stay, the others take the lowest free in order. */
	struct machine_config *c =
		parse_ok(MOCK_HDR "devices:\n"
				  "  - {rid: 1, iommu: io0}\n"
				  "  - {rid: 2, iommu: io0, vfio: 0}\n"
				  "  - {rid: 3, iommu: io0, vfio: 3}\n"
				  "  - {rid: 4, iommu: io0}\n");

	assert_int_equal(c->devices[0].vfio, 1);
	assert_int_equal(c->devices[1].vfio, 0);
	assert_int_equal(c->devices[2].vfio, 3);
	assert_int_equal(c->devices[3].vfio, 2);
	assert_ptr_equal(machine_config_vfio(c, 2), &c->devices[3]);
	assert_null(machine_config_vfio(c, 4));
	machine_config_free(c);
}

static void test_overrides(void **state)
{
	struct machine_config *c = parse_ok(
		"iommus:\n"
		"  - name: s\n    model: smmuv3\n    config:\n"
		"      s1p: false\n      ssidsize: 0\n      oas: 0b101\n"
		"      cmdqs: 0o10\n      tlb_entries: 0x100\n"
		"  - name: v\n    model: vtd\n    config: {nest: 0, pss: 9, "
		"sagaw: 4, mgaw: 47}\n"
		"  - name: m\n    model: mock\n    config: {aperture_last: "
		"0xfffff, pasid_bits: 0, no_msi: true}\n");
	const struct ionest_smmuv3_config *s = &c->iommus[0].cfg.smmuv3;
	const struct ionest_vtd_config *v = &c->iommus[1].cfg.vtd;
	const struct ionest_mock_config *m = &c->iommus[2].cfg.mock;

	/* CFG8 fields hold value + 1, so 0 can be chosen. */
	assert_int_equal(s->s1p, IONEST_CFG(0));
	assert_int_equal(s->ssidsize, IONEST_CFG(0));
	assert_int_equal(s->oas, IONEST_CFG(5));
	assert_int_equal(s->cmdqs, IONEST_CFG(8));
	assert_int_equal(s->s2p, 0); /* untouched: default */
	assert_int_equal(s->tlb_entries, 0x100);
	assert_int_equal(c->iommus[0].nover, 5);
	assert_string_equal(c->iommus[0].over[2].field->name, "oas");
	assert_int_equal(c->iommus[0].over[2].value, 5);
	assert_int_equal(c->iommus[0].over[2].line, 7);
	assert_int_equal(v->nest, IONEST_CFG(0));
	assert_int_equal(v->pss, IONEST_CFG(9));
	assert_int_equal(v->sagaw, IONEST_CFG(4));
	assert_int_equal(v->mgaw, IONEST_CFG(47));
	assert_int_equal(m->aperture_last, 0xfffff);
	assert_int_equal(m->pasid_bits, IONEST_CFG(0));
	assert_int_equal(m->no_msi, 1); /* raw field */
	machine_config_free(c);
}

static void test_null_sections(void **state)
{
	struct machine_config *c = parse_ok(MOCK_HDR "    config:\n"
						     "devices: ~\n");

	assert_int_equal(c->iommus[0].nover, 0);
	assert_int_equal(c->ndevices, 0);
	machine_config_free(c);
	c = parse_ok(MOCK_HDR "devices: []\n");
	assert_int_equal(c->ndevices, 0);
	machine_config_free(c);
}

/* Every error: the exact message with the line of the offending node. */
struct bad {
	const char *yaml, *msg;
};

static const struct bad bad_files[] = {
	{ "", "m.yaml:1: empty machine file (expected 'iommus:')" },
	{ "iommus: [\n", "m.yaml:2: YAML syntax error: did not find expected "
			 "node content while parsing a flow node" },
	{ MOCK_HDR "---\n" MOCK_HDR,
	  "m.yaml:4: a machine file holds one YAML document" },
	{ "- 1\n", "m.yaml:1: expected a mapping" },
	{ "version: 2\n" MOCK_HDR,
	  "m.yaml:1: version: expected an integer 1..1" },
	{ "iommu: []\n", "m.yaml:1: unknown key 'iommu'" },
	{ "version: 1\n", "m.yaml:1: missing key 'iommus'" },
	{ "iommus: 3\n", "m.yaml:1: iommus: expected a list" },
	{ "iommus: []\n", "m.yaml:1: iommus: a machine needs at least one "
			  "IOMMU" },
	{ "iommus:\n  - io0\n", "m.yaml:2: iommus[0]: expected a mapping" },
	{ "iommus:\n  - model: mock\n",
	  "m.yaml:2: iommus[0]: missing key 'name'" },
	{ "iommus:\n  - name: a b\n    model: mock\n",
	  "m.yaml:2: iommus[0].name: 'a b': a name is letters, digits, '_', "
	  "'-' and '.'" },
	{ "iommus:\n  - name: abcdefghijabcdefghijabcdefghij12\n",
	  "m.yaml:2: iommus[0].name: expected a name of 1..31 characters" },
	{ "iommus:\n  - name: [x]\n",
	  "m.yaml:2: iommus[0].name: expected a name" },
	{ MOCK_HDR "  - name: io0\n    model: vtd\n",
	  "m.yaml:4: iommus[1].name: 'io0' is already the name of iommus[0]" },
	{ "iommus:\n  - name: x\n", "m.yaml:2: iommus[0]: missing key "
				    "'model'" },
	{ "iommus:\n  - name: x\n    model: amd\n",
	  "m.yaml:3: iommus[0].model: expected smmuv3, vtd or mock" },
	{ MOCK_HDR "    nesting: yes\n",
	  "m.yaml:4: iommus[0].nesting: expected hw, shadow or auto" },
	{ MOCK_HDR "    name: y\n", "m.yaml:4: iommus[0]: 'name' given twice" },
	{ MOCK_HDR "    colour: red\n", "m.yaml:4: iommus[0]: unknown key "
					"'colour'" },
	{ MOCK_HDR "    config: [1]\n",
	  "m.yaml:4: iommus[0].config: expected a mapping of mock fields" },
	{ MOCK_HDR "    config:\n      ssidsize: 3\n",
	  "m.yaml:5: iommus[0].config: unknown key 'ssidsize' for model mock "
	  "(see docs/machine-files.md)" },
	{ "iommus:\n  - name: s\n    model: smmuv3\n    config:\n"
	  "      ssidsize: 21\n",
	  "m.yaml:5: iommus[0].config.ssidsize: expected an integer 0..20" },
	{ "iommus:\n  - name: s\n    model: smmuv3\n    config:\n"
	  "      ssidsize: \"8\"\n",
	  "m.yaml:5: iommus[0].config.ssidsize: expected an integer 0..20" },
	{ "iommus:\n  - name: s\n    model: smmuv3\n    config:\n"
	  "      sidsize: true\n",
	  "m.yaml:5: iommus[0].config.sidsize: expected an integer 0..32" },
	{ "iommus:\n  - name: s\n    model: smmuv3\n    config:\n"
	  "      s1p: 2\n",
	  "m.yaml:5: iommus[0].config.s1p: expected an integer 0..1" },
	{ "iommus:\n  - name: s\n    model: smmuv3\n    config:\n"
	  "      ats: 1\n      ats: 0\n",
	  "m.yaml:6: iommus[0].config: 'ats' given twice" },
	{ "iommus:\n  - name: v\n    model: vtd\n    config:\n"
	  "      pss: 20\n",
	  "m.yaml:5: iommus[0].config.pss: expected an integer 0..19" },
	{ "iommus:\n  - name: v\n    model: vtd\n    config:\n"
	  "      tlb_entries: 0\n",
	  "m.yaml:5: iommus[0].config.tlb_entries: expected an integer "
	  "1..16777216" },
	{ "iommus:\n  - name: v\n    model: vtd\n    config:\n"
	  "      tlb_entries: 99999999999999999999\n",
	  "m.yaml:5: iommus[0].config.tlb_entries: expected an integer "
	  "1..16777216" },
	{ MOCK_HDR "    config: {aperture_start: -1}\n",
	  "m.yaml:4: iommus[0].config.aperture_start: expected an integer >= "
	  "0" },
	{ MOCK_HDR "devices: {}\n", "m.yaml:4: devices: expected a list" },
	{ MOCK_HDR "devices:\n  - 5\n",
	  "m.yaml:5: devices[0]: expected a mapping" },
	{ MOCK_HDR "devices:\n  - iommu: io0\n",
	  "m.yaml:5: devices[0]: missing key 'bdf' (or 'rid')" },
	{ MOCK_HDR "devices:\n  - bdf: \"00:01.0\"\n    rid: 8\n",
	  "m.yaml:6: devices[0]: give either 'bdf' or 'rid', not both" },
	{ MOCK_HDR "devices:\n  - bdf: \"00:20.0\"\n",
	  "m.yaml:5: devices[0].bdf: expected a PCI address \"BB:DD.F\" (hex "
	  "bus, device 00..1f, function 0..7)" },
	{ MOCK_HDR "devices:\n  - bdf: \"00:01.8\"\n",
	  "m.yaml:5: devices[0].bdf: expected a PCI address \"BB:DD.F\" (hex "
	  "bus, device 00..1f, function 0..7)" },
	{ MOCK_HDR "devices:\n  - bdf: \"100:01.0\"\n",
	  "m.yaml:5: devices[0].bdf: expected a PCI address \"BB:DD.F\" (hex "
	  "bus, device 00..1f, function 0..7)" },
	{ MOCK_HDR "devices:\n  - bdf: \"0001:00:01.0\"\n",
	  "m.yaml:5: devices[0].bdf: expected a PCI address \"BB:DD.F\" (hex "
	  "bus, device 00..1f, function 0..7)" },
	{ MOCK_HDR "devices:\n  - bdf: \"0g:01.0\"\n",
	  "m.yaml:5: devices[0].bdf: expected a PCI address \"BB:DD.F\" (hex "
	  "bus, device 00..1f, function 0..7)" },
	{ MOCK_HDR "devices:\n  - bdf: \"00:01.\"\n",
	  "m.yaml:5: devices[0].bdf: expected a PCI address \"BB:DD.F\" (hex "
	  "bus, device 00..1f, function 0..7)" },
	{ MOCK_HDR "devices:\n  - rid: 0x100000000\n",
	  "m.yaml:5: devices[0].rid: expected an integer 0..4294967295" },
	{ MOCK_HDR "devices:\n  - rid: 1\n",
	  "m.yaml:5: devices[0]: missing key 'iommu'" },
	{ MOCK_HDR "devices:\n  - rid: 1\n    iommu: io1\n",
	  "m.yaml:6: devices[0].iommu: no IOMMU named 'io1'" },
	/* The example of the issue, line for line. */
	{ MOCK_HDR "devices:\n"
		   "  - {rid: 1, iommu: io0}\n"
		   "  - rid: 2\n"
		   "    pasid: 21\n"
		   "    iommu: io0\n",
	  "m.yaml:7: devices[1].pasid: expected an integer 0..20" },
	{ MOCK_HDR "devices:\n  - {rid: 1, iommu: io0, ats: yes}\n",
	  "m.yaml:5: devices[0].ats: expected true or false" },
	{ MOCK_HDR "devices:\n  - {rid: 1, iommu: io0, pri: true}\n",
	  "m.yaml:5: devices[0]: pri: true needs ats: true (PRI is an ATS "
	  "feature)" },
	{ MOCK_HDR "devices:\n  - {rid: 1, iommu: io0, pasid_exec: true}\n",
	  "m.yaml:5: devices[0]: pasid_exec needs a PASID capability (pasid: "
	  "1..20)" },
	{ MOCK_HDR "devices:\n  - {rid: 1, iommu: io0, pasid_priv: true}\n",
	  "m.yaml:5: devices[0]: pasid_priv needs a PASID capability (pasid: "
	  "1..20)" },
	{ MOCK_HDR "devices:\n  - {rid: 1, iommu: io0, vfio: -1}\n",
	  "m.yaml:5: devices[0].vfio: expected an integer 0..16383" },
	{ MOCK_HDR "devices:\n  - {rid: 1, iommu: io0, vfio: 1}\n",
	  "m.yaml:5: devices[0].vfio: 1 leaves a gap: with 1 devices the "
	  "numbers are 0..0" },
	{ MOCK_HDR "devices:\n"
		   "  - {rid: 1, iommu: io0, vfio: 0}\n"
		   "  - {rid: 2, iommu: io0,\n"
		   "     vfio: 0}\n",
	  "m.yaml:7: devices[1].vfio: vfio0 is already devices[0]" },
	{ MOCK_HDR "devices:\n"
		   "  - {bdf: \"00:01.0\", iommu: io0}\n"
		   "  - {rid: 8, iommu: io0}\n",
	  "m.yaml:6: devices[1].rid: RID 0x0008 is already devices[0] on io0" },
	{ MOCK_HDR "devices:\n"
		   "  - {name: a, rid: 1, iommu: io0}\n"
		   "  - {name: a, rid: 2, iommu: io0}\n",
	  "m.yaml:6: devices[1].name: 'a' is already the name of devices[0]" },
	{ MOCK_HDR "devices:\n  - {rid: 1, iommu: io0, colour: red}\n",
	  "m.yaml:5: devices[0]: unknown key 'colour'" },
	{ MOCK_HDR "devices:\n  - {rid: 1, iommu: io0, rid: 2}\n",
	  "m.yaml:5: devices[0]: 'rid' given twice" },
	{ "iommus:\n  - name: x\n    model: mock\n    ? [a]\n    : 1\n",
	  "m.yaml:4: iommus[0]: keys must be plain names" },
};

static void test_errors(void **state)
{
	for (size_t i = 0; i < sizeof(bad_files) / sizeof(bad_files[0]); i++) {
		struct machine_config *c = (void *)1;
		char err[256];
		int rc = parse(bad_files[i].yaml, &c, err, sizeof(err));

		if (rc != -EINVAL || strcmp(err, bad_files[i].msg))
			print_error("case %zu: rc %d, got \"%s\"\n", i, rc,
				    err);
		assert_int_equal(rc, -EINVAL);
		assert_null(c);
		assert_string_equal(err, bad_files[i].msg);
	}
}

static void test_limits(void **state)
{
	size_t n = 16385, len = 16 + n * 6;
	char *yaml = malloc(len), *p = yaml, err[256];
	struct machine_config *c;

	/* More entries than a machine can have. */
	p += sprintf(p, "iommus:\n");
	for (size_t i = 0; i < n; i++)
		p += sprintf(p, "  - x\n");
	assert_int_equal(parse(yaml, &c, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "m.yaml:2: iommus: more than 16384 entries");
	/* A syntax error in a second document is still reported. */
	assert_int_equal(parse(MOCK_HDR "---\n[\n", &c, err, sizeof(err)),
			 -EINVAL);
	assert_int_equal(strncmp(err, "m.yaml:6: YAML syntax error: ", 29), 0);
	free(yaml);
}

static void test_error_buffer(void **state)
{
	struct machine_config *c;
	char err[12];

	/* Truncated, always terminated; NULL buffer allowed. */
	assert_int_equal(parse("iommus: 3\n", &c, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "m.yaml:1: i");
	assert_int_equal(parse("iommus: 3\n", &c, NULL, 0), -EINVAL);
	assert_int_equal(machine_config_parse("m.yaml", NULL, 5, &c, err,
					      sizeof(err)),
			 -EINVAL);
	/* NUL inside a scalar is not a name. */
	assert_int_equal(parse("iommus:\n  - name: \"a\\0b\"\n", &c, err,
			       sizeof(err)),
			 -EINVAL);
}

/* ---- Building ---- */

static struct ionest_machine *build(const char *yaml, int *rc, char *err,
				    size_t len)
{
	struct machine_config *c = parse_ok(yaml);
	struct ionest_machine *m = NULL;

	*rc = machine_config_build(c, &m, err, len);
	machine_config_free(c);
	return m;
}

static void test_build(void **state)
{
	struct ionest_machine *m;
	struct machine_device *d;
	char err[256];
	int rc;

	m = build("iommus:\n"
		  "  - {name: a, model: mock, nesting: shadow}\n"
		  "  - {name: b, model: mock}\n"
		  "devices:\n"
		  "  - {name: d0, rid: 5, iommu: b, vfio: 1, pasid: 4}\n"
		  "  - {name: d1, bdf: \"00:01.0\", iommu: a, ats: true}\n",
		  &rc, err, sizeof(err));
	assert_int_equal(rc, 0);
	assert_non_null(m);
	assert_non_null(ionest_machine_iommu(m, "a"));
	assert_string_equal(ionest_hw_name(ionest_machine_iommu(m, "b")), "b");
	/* The file's mode reaches the instance; auto resolves (mock nests). */
	assert_int_equal(ionest_machine_nesting(m, "a"), IONEST_NESTING_SHADOW);
	assert_int_equal(ionest_machine_nesting(m, "b"), IONEST_NESTING_HW);
	/* Device N is vfioN. */
	d = machine_device(m, 0);
	assert_string_equal(d->name, "d1");
	assert_int_equal(d->cfg.rid, 8);
	assert_true(d->cfg.ats);
	assert_string_equal(d->cfg.iommu, "a");
	d = machine_device(m, 1);
	assert_string_equal(d->name, "d0");
	assert_int_equal(d->cfg.pasid_bits, 4);
	assert_null(machine_device(m, 2));
	ionest_machine_free(m);
}

static void test_build_errors(void **state)
{
	struct ionest_machine *m;
	char err[256];
	int rc;

	/* The model refuses PRI without ATS (IDR0). */
	m = build("iommus:\n  - name: s\n    model: smmuv3\n    config:\n"
		  "      ats: false\n      pri: true\n",
		  &rc, err, sizeof(err));
	assert_null(m);
	assert_int_equal(rc, -EINVAL);
	assert_string_equal(err, "m.yaml:4: iommus[0].config: the smmuv3 model "
				 "cannot be built with these values");
	/* hw nesting on a part without stage 1. */
	m = build("iommus:\n  - name: s\n    model: smmuv3\n    nesting: hw\n"
		  "    config: {s1p: false}\n",
		  &rc, err, sizeof(err));
	assert_null(m);
	assert_string_equal(err, "m.yaml:2: iommus[0].nesting: hw nesting "
				 "needs a part that walks both stages (this "
				 "smmuv3 cannot)");
}

static void test_build_rid_refused(void **state)
{
	struct machine_config *c = parse_ok(MOCK_HDR
					    "devices:\n"
					    "  - {rid: 1, iommu: io0}\n"
					    "  - rid: 0x10000\n"
					    "    iommu: io0\n");
	struct ionest_machine *m = (void *)1;
	char err[256];

	assert_int_equal(machine_config_build(c, &m, err, sizeof(err)),
			 -EINVAL);
	assert_null(m);
	assert_string_equal(err,
			    "m.yaml:6: devices[1]: the mock driver refused "
			    "RID 0x10000 (beyond what the IOMMU "
			    "decodes?)");
	machine_config_free(c);
	assert_int_equal(machine_config_build(NULL, &m, err, sizeof(err)),
			 -EINVAL);
}

/* ---- Files and the public loaders ---- */

static char *write_tmp(const char *text)
{
	char *path = strdup("/tmp/ionest-cfg-XXXXXX");
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

static void test_load_file(void **state)
{
	char *path = write_tmp(MOCK_HDR "devices:\n  - {rid: 3, iommu: io0}\n");
	char *bad = write_tmp(MOCK_HDR "    nesting: sideways\n");
	struct ionest_machine *m;
	char err[256], want[300];

	m = ionest_machine_load(path, err, sizeof(err));
	assert_non_null(m);
	assert_string_equal(err, "");
	assert_non_null(machine_device(m, 0));
	ionest_machine_free(m);

	errno = 0;
	assert_null(ionest_machine_load(bad, err, sizeof(err)));
	assert_int_equal(errno, EINVAL);
	snprintf(want, sizeof(want),
		 "%s:4: iommus[0].nesting: expected hw, shadow or auto", bad);
	assert_string_equal(err, want);

	assert_null(
		ionest_machine_load("/nonexistent/m.yaml", err, sizeof(err)));
	assert_int_equal(errno, ENOENT);
	assert_string_equal(err, "/nonexistent/m.yaml: cannot open: No such "
				 "file or directory");
	assert_null(ionest_machine_load("/tmp", err, sizeof(err)));
	assert_int_equal(errno, EINVAL);
	assert_string_equal(err, "/tmp: not a regular file of at most "
				 "16777216 bytes");
	assert_null(ionest_machine_load(NULL, err, sizeof(err)));
	assert_int_equal(errno, EINVAL);

	/* The environment. */
	unsetenv("IONEST_CONFIG");
	assert_null(ionest_machine_load_env(err, sizeof(err)));
	assert_int_equal(errno, ENOENT);
	assert_string_equal(err, "IONEST_CONFIG is not set (it names the "
				 "machine file)");
	setenv("IONEST_CONFIG", path, 1);
	m = ionest_machine_load_env(NULL, 0);
	assert_non_null(m);
	ionest_machine_free(m);
	unsetenv("IONEST_CONFIG");
	unlink(path);
	unlink(bad);
	free(path);
	free(bad);
}

static void test_examples(void **state)
{
	static const char *const files[] = { "mock.yaml", "smmuv3-nesting.yaml",
					     "vtd.yaml" };
	const char *dir = IONEST_EXAMPLES;

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		char path[512], err[256];
		struct ionest_machine *m;

		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		m = ionest_machine_load(path, err, sizeof(err));
		if (!m)
			print_error("%s\n", err);
		assert_non_null(m);
		assert_non_null(machine_device(m, 0));
		ionest_machine_free(m);
	}
}

/* Every allocation of parse + build failing in turn: an error, no leak. */
static void test_alloc_failures(void **state)
{
	static const char yaml[] =
		"iommus:\n  - {name: a, model: mock}\n"
		"  - {name: s, model: smmuv3, config: {ssidsize: 8}}\n"
		"devices:\n  - {rid: 1, iommu: a}\n  - {rid: 2, iommu: s}\n";
	unsigned long n;

	for (n = 1; n < 10000; n++) {
		struct machine_config *c = NULL;
		struct ionest_machine *m = NULL;
		char err[256];
		int rc;

		fault_inject_nth(n);
		rc = parse(yaml, &c, err, sizeof(err));
		if (!rc) {
			rc = machine_config_build(c, &m, err, sizeof(err));
			machine_config_free(c);
		}
		fault_inject_nth(0);
		if (!rc) {
			ionest_machine_free(m);
			break;
		}
		assert_int_equal(rc, -ENOMEM);
		assert_null(m);
	}
	assert_true(n > 3 && n < 10000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_minimal),
		cmocka_unit_test(test_full_device),
		cmocka_unit_test(test_vfio_numbers),
		cmocka_unit_test(test_overrides),
		cmocka_unit_test(test_null_sections),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_error_buffer),
		cmocka_unit_test(test_build),
		cmocka_unit_test(test_build_errors),
		cmocka_unit_test(test_build_rid_refused),
		cmocka_unit_test(test_load_file),
		cmocka_unit_test(test_examples),
		cmocka_unit_test(test_alloc_failures),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
