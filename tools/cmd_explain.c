// SPDX-License-Identifier: MIT
/*
 * ionest explain: translate one access on a machine and print every step
 * the IOMMU takes (lib/hw/explain.h) - configuration structures, each
 * stage-1 level with the stage-2 walk of its table address, cache hits
 * and misses, the output and permissions or the fault with its
 * architectural code - as text or JSON. The machine is a machine file
 * whose scenario (scenario/file.h) sets up the state to explain.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ionest/ionest.h>

#include "commands.h"
#include "explain_out.h"
#include "hw/explain.h"
#include "machine/config.h"
#include "scenario/file.h"

static void help(FILE *f)
{
	fprintf(f,
		"usage: ionest explain [OPTIONS] FILE DEVICE[:PASID] IOVA\n\n"
		"Translate one access of DEVICE (a device name or vfioN of the "
		"machine\nfile FILE, whose scenario sets up the state) through "
		"its IOMMU and print\nevery step: the configuration structures "
		"read, each stage-1 level with\nthe stage-2 walk of its table "
		"address, cache hits and misses, and the\noutput address and "
		"permissions or the fault with its architectural code.\n"
		"Nothing in the machine changes (caches, counters, access and "
		"dirty bits).\n\n"
		"options:\n"
		"  -r, --read    a read (the default; with --write a "
		"read-write access)\n"
		"  -w, --write   a write\n"
		"  -x, --exec    an instruction fetch\n"
		"  -p, --priv    a privileged access\n"
		"      --ats     an ATS translation request\n"
		"      --warm    make the access once through the IOMMU "
		"first (filling its\n"
		"                caches), then explain the next one\n"
		"  -j, --json    one JSON object {access, steps, result}\n"
		"  -h, --help    this text\n\n"
		"Exit status: 0 the access was explained (whatever its "
		"outcome), 1 it\ncould not be (machine file, device, model), "
		"2 usage error.\n");
}

static int usage_error(const char *fmt, const char *arg)
{
	char msg[256];

	snprintf(msg, sizeof(msg), fmt, arg);
	tool_error("explain", "%s", msg);
	help(stderr);
	return 2;
}

static bool parse_u64(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (!s || !*s || *s == '-')
		return false;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || *end)
		return false;
	*out = v;
	return true;
}

struct target {
	char device[64];
	bool has_pasid;
	uint32_t pasid;
};

/* DEVICE or DEVICE:PASID. */
static bool parse_target(const char *s, struct target *t)
{
	const char *colon = strrchr(s, ':');
	size_t len = colon ? (size_t)(colon - s) : strlen(s);
	uint64_t v;

	if (!len || len >= sizeof(t->device))
		return false;
	memcpy(t->device, s, len);
	t->device[len] = '\0';
	t->has_pasid = colon != NULL;
	if (colon) {
		if (!parse_u64(colon + 1, &v) || v > 0xfffff)
			return false;
		t->pasid = (uint32_t)v;
	}
	return true;
}

static int explain_file(const char *file, const struct target *t,
			struct ionest_xlate_req *req, bool json, bool warm)
{
	struct machine_config *c = NULL;
	struct ionest_machine *m = NULL;
	struct scen_file *sf = NULL;
	const struct mcfg_device *d;
	struct hw_explain x = { 0 };
	struct explain_who who = { .source = file, .warm = warm };
	struct ionest_hw *hw;
	char err[512];
	int rc = 1;

	if (machine_config_load(file, &c, err, sizeof(err))) {
		tool_error("explain", "%s", err[0] ? err : "cannot load");
		return 1;
	}
	if (machine_config_build(c, &m, err, sizeof(err))) {
		tool_error("explain", "%s", err[0] ? err : "cannot build");
		goto out;
	}
	if (scen_file_build(c, m, &sf, err, sizeof(err))) {
		tool_error("explain", "%s", err[0] ? err : "scenario failed");
		goto out;
	}
	d = machine_config_device(c, t->device);
	if (!d) {
		tool_error("explain",
			   "%s: no device '%s' (a device name or "
			   "vfioN)",
			   file, t->device);
		goto out;
	}
	if (t->has_pasid && t->pasid >> d->pasid_bits) {
		tool_error("explain",
			   "%s: device '%s' has %u PASID bits: no PASID %u",
			   file, t->device, d->pasid_bits, t->pasid);
		goto out;
	}
	hw = ionest_machine_iommu(m, d->iommu);
	req->sid = d->rid;
	req->ssid_valid = t->has_pasid;
	req->ssid = t->pasid;
	who.device = t->device;
	who.iommu = d->iommu;
	if (warm) {
		struct ionest_xlate_res res;

		ionest_hw_translate(hw, req, &res);
	}
	rc = hw_explain(hw, req, &x);
	if (rc == -EOPNOTSUPP) {
		tool_error("explain", "the %s model of %s cannot explain",
			   ionest_hw_model(hw), d->iommu);
		rc = 1;
		goto out;
	}
	if (rc) {
		tool_error("explain", "%s", strerror(-rc));
		rc = 1;
		goto out;
	}
	if (json)
		explain_print_json(stdout, &who, &x);
	else
		explain_print_text(stdout, &who, &x);
	rc = 0;
out:
	hw_explain_fini(&x);
	scen_file_free(sf);
	ionest_machine_free(m);
	machine_config_free(c);
	return rc;
}

int cmd_explain(int argc, char **argv)
{
	enum { OPT_ATS = 256, OPT_WARM };
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "read", no_argument, NULL, 'r' },
		{ "write", no_argument, NULL, 'w' },
		{ "exec", no_argument, NULL, 'x' },
		{ "priv", no_argument, NULL, 'p' },
		{ "ats", no_argument, NULL, OPT_ATS },
		{ "warm", no_argument, NULL, OPT_WARM },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	struct ionest_xlate_req req = { 0 };
	bool json = false, warm = false, read = false;
	struct target t;
	int opt, rc;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "hrwxpj", opts, NULL)) != -1) {
		switch (opt) {
		case 'h':
			help(stdout);
			return 0;
		case 'r':
			read = true;
			break;
		case 'w':
			req.access |= IONEST_ACCESS_WRITE;
			break;
		case 'x':
			req.access |= IONEST_ACCESS_EXEC;
			break;
		case 'p':
			req.access |= IONEST_ACCESS_PRIV;
			break;
		case OPT_ATS:
			req.ats = true;
			break;
		case OPT_WARM:
			warm = true;
			break;
		case 'j':
			json = true;
			break;
		default:
			return usage_error("unknown option '%s'",
					   argv[optind - 1]);
		}
	}
	if (read || !(req.access & (IONEST_ACCESS_WRITE | IONEST_ACCESS_EXEC)))
		req.access |= IONEST_ACCESS_READ;
	if (argc - optind != 3)
		return usage_error("%s", "expected FILE DEVICE[:PASID] IOVA");
	if (!parse_target(argv[optind + 1], &t))
		return usage_error("'%s' is not DEVICE or DEVICE:PASID "
				   "(PASID 0..0xfffff)",
				   argv[optind + 1]);
	if (!parse_u64(argv[optind + 2], &req.iova))
		return usage_error("'%s' is not an address", argv[optind + 2]);
	rc = explain_file(argv[optind], &t, &req, json, warm);
	if (fflush(stdout)) {
		tool_error("explain", "cannot write the output");
		return 1;
	}
	return rc;
}
