// SPDX-License-Identifier: MIT
/*
 * ionest explain: translate one access on a machine and print every step
 * the IOMMU takes (lib/hw/explain.h) - configuration structures, each
 * stage-1 level with the stage-2 walk of its table address, cache hits
 * and misses, the output and permissions or the fault with its
 * architectural code - as text or JSON. The machine is a machine file
 * whose scenario (scenario/file.h) sets up the state to explain, or the
 * demo's seed topology (scenario/seed.h) with a path of it.
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
#include "scenario/seed.h"

static void help(FILE *f)
{
	fprintf(f,
		"usage: ionest explain [OPTIONS] FILE DEVICE[:PASID] IOVA\n"
		"       ionest explain [OPTIONS] --demo PATH [IOVA] [--iommu "
		"smmuv3|vtd]\n\n"
		"Translate one access of DEVICE (a device name or vfioN of the "
		"machine\nfile FILE, whose scenario sets up the state) through "
		"its IOMMU and print\nevery step: the configuration structures "
		"read, each stage-1 level with\nthe stage-2 walk of its table "
		"address, cache hits and misses, and the\noutput address and "
		"permissions or the fault with its architectural code.\n"
		"Nothing in the machine changes (caches, counters, access and "
		"dirty bits).\n\n"
		"With --demo, the machine is the seed topology of `ionest demo` "
		"and PATH\none of its paths: host, vm1, vm2, vm2.dev2, "
		"vm1.proc1, vm1.proc2,\nvm2.proc1, vm2.proc2 (IOVA: the path's "
		"first mapped page by default).\n\n"
		"options:\n"
		"  -r, --read           a read (the default; with --write a "
		"read-write\n"
		"                       access)\n"
		"  -w, --write          a write\n"
		"  -x, --exec           an instruction fetch\n"
		"  -p, --priv           a privileged access\n"
		"      --ats            an ATS translation request\n"
		"      --warm           make the access once through the IOMMU "
		"first\n"
		"                       (filling its caches), then explain the "
		"next one\n"
		"  -j, --json           one JSON object {access, steps, result}\n"
		"      --demo           explain on the seed topology (above)\n"
		"      --iommu MODEL    with --demo: smmuv3 (default) or vtd\n"
		"      --nesting MODE   with --demo: hw or shadow (default: what "
		"the\n"
		"                       model can do)\n"
		"  -h, --help           this text\n\n"
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

/* Explain @req on @hw (made once first with who->warm) and print it. */
static int explain_hw(struct ionest_hw *hw, struct ionest_xlate_req *req,
		      const struct explain_who *who, bool json)
{
	struct hw_explain x = { 0 };
	int rc;

	if (who->warm) {
		struct ionest_xlate_res res;

		ionest_hw_translate(hw, req, &res);
	}
	rc = hw_explain(hw, req, &x);
	if (rc == -EOPNOTSUPP) {
		tool_error("explain", "the %s model of %s cannot explain",
			   ionest_hw_model(hw), who->iommu);
	} else if (rc) {
		tool_error("explain", "%s", strerror(-rc));
	} else if (json) {
		explain_print_json(stdout, who, &x);
	} else {
		explain_print_text(stdout, who, &x);
	}
	hw_explain_fini(&x);
	return rc ? 1 : 0;
}

static int explain_file(const char *file, const struct target *t,
			struct ionest_xlate_req *req, bool json, bool warm)
{
	struct machine_config *c = NULL;
	struct ionest_machine *m = NULL;
	struct scen_file *sf = NULL;
	const struct mcfg_device *d;
	struct explain_who who = { .source = file, .warm = warm };
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
	req->sid = d->rid;
	req->ssid_valid = t->has_pasid;
	req->ssid = t->pasid;
	who.device = t->device;
	who.iommu = d->iommu;
	rc = explain_hw(ionest_machine_iommu(m, d->iommu), req, &who, json);
out:
	scen_file_free(sf);
	ionest_machine_free(m);
	machine_config_free(c);
	return rc;
}

static int explain_demo(const struct seed_opts *so, const char *path,
			const char *iova, struct ionest_xlate_req *req,
			bool json, bool warm)
{
	struct explain_who who = { .warm = warm };
	struct seed_path p;
	struct seed *s = NULL;
	char err[256], src[32];
	int rc;

	rc = seed_new(so, &s, err, sizeof(err));
	if (rc) {
		tool_error("explain", "demo: %s", err[0] ? err : strerror(-rc));
		return 1;
	}
	if (seed_path(s, path, &p)) {
		tool_error("explain",
			   "demo: no path '%s' (host, vm1, vm2, vm2.dev2, "
			   "vm1.proc1, vm1.proc2, vm2.proc1, vm2.proc2)",
			   path);
		seed_free(s);
		return 1;
	}
	if (iova && !parse_u64(iova, &req->iova)) {
		seed_free(s);
		return usage_error("'%s' is not an address", iova);
	}
	if (!iova)
		req->iova = p.iova;
	req->sid = p.rid;
	req->ssid_valid = p.pasid != IONEST_NO_PASID;
	req->ssid = req->ssid_valid ? p.pasid : 0;
	snprintf(src, sizeof(src), "demo (%s)", s->model);
	who.source = src;
	who.device = path;
	who.iommu = p.iommu;
	rc = explain_hw(ionest_machine_iommu(seed_machine(s), p.iommu), req,
			&who, json);
	seed_free(s);
	return rc;
}

int cmd_explain(int argc, char **argv)
{
	enum { OPT_ATS = 256, OPT_WARM, OPT_DEMO, OPT_IOMMU, OPT_NESTING };
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "read", no_argument, NULL, 'r' },
		{ "write", no_argument, NULL, 'w' },
		{ "exec", no_argument, NULL, 'x' },
		{ "priv", no_argument, NULL, 'p' },
		{ "ats", no_argument, NULL, OPT_ATS },
		{ "warm", no_argument, NULL, OPT_WARM },
		{ "json", no_argument, NULL, 'j' },
		{ "demo", no_argument, NULL, OPT_DEMO },
		{ "iommu", required_argument, NULL, OPT_IOMMU },
		{ "nesting", required_argument, NULL, OPT_NESTING },
		{ NULL, 0, NULL, 0 },
	};
	struct ionest_xlate_req req = { 0 };
	struct seed_opts so = { .iommu = "smmuv3" };
	bool json = false, warm = false, read = false, demo = false;
	bool demo_opt = false;
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
		case OPT_DEMO:
			demo = true;
			break;
		case OPT_IOMMU:
			if (strcmp(optarg, "smmuv3") && strcmp(optarg, "vtd"))
				return usage_error("unknown IOMMU model '%s' "
						   "(smmuv3 or vtd)",
						   optarg);
			so.iommu = optarg;
			demo_opt = true;
			break;
		case OPT_NESTING:
			if (!strcmp(optarg, "hw"))
				so.nesting = IONEST_NESTING_HW;
			else if (!strcmp(optarg, "shadow"))
				so.nesting = IONEST_NESTING_SHADOW;
			else
				return usage_error("unknown nesting mode '%s' "
						   "(hw or shadow)",
						   optarg);
			demo_opt = true;
			break;
		default:
			return usage_error("unknown option '%s'",
					   argv[optind - 1]);
		}
	}
	if (read || !(req.access & (IONEST_ACCESS_WRITE | IONEST_ACCESS_EXEC)))
		req.access |= IONEST_ACCESS_READ;
	if (demo_opt && !demo)
		return usage_error("%s",
				   "--iommu and --nesting go with --demo");
	if (demo) {
		if (argc - optind < 1 || argc - optind > 2)
			return usage_error("%s", "expected --demo PATH [IOVA]");
		rc = explain_demo(&so, argv[optind],
				  argc - optind == 2 ? argv[optind + 1] : NULL,
				  &req, json, warm);
		if (fflush(stdout)) {
			tool_error("explain", "cannot write the output");
			return 1;
		}
		return rc;
	}
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
