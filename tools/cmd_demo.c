// SPDX-License-Identifier: MIT
/*
 * ionest demo: build the seed topology (scenario/seed.h) on one model,
 * run every check of scenario/checks.h and print the topology, one line
 * per check, the IOMMU's counters and a verdict (text, --json), and
 * optionally a Graphviz graph of the topology (--dot FILE). The scenario
 * module builds and checks; this file only formats.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "json.h"
#include "scenario/checks.h"
#include "scenario/seed.h"
#include "term.h"

#ifndef IONEST_VERSION
#define IONEST_VERSION "unknown"
#endif

static void help(FILE *f)
{
	fprintf(f,
		"usage: ionest demo [--iommu smmuv3|vtd] [--nesting hw|shadow] "
		"[--json]\n"
		"                   [--dot FILE] [-v]\n\n"
		"Build the seed topology on a software IOMMU and exercise it "
		"through\n/dev/iommu and the VFIO cdevs: one PASID device "
		"shared by the host (its\nRID, an IOVA domain) and two VMs "
		"(PASIDs x and y in their GPA spaces),\na second device in "
		"VM2, and guest processes on nested HWPTs whose\nstage-1 "
		"tables the guests wrote in their own RAM (VM1: PASIDs a, b;\n"
		"VM2: PASID c and PASID a of the second device).\n\n"
		"Checks: DMA on every path with the bytes checked, isolation "
		"of each VM,\na stage-1 change before and after invalidation, "
		"a translation fault\nreaching the VM (vEVENTQ / fault queue), "
		"page requests answered and\nretried, an MSI. Then the IOMMU's "
		"counters and a verdict.\n\n"
		"  --iommu MODEL    smmuv3 (default) or vtd\n"
		"  --nesting MODE   hw or shadow (default: what the model can "
		"do); the\n"
		"                   mode in effect is printed\n"
		"  --json           one JSON object on stdout instead of text\n"
		"  --dot FILE       also write the topology as a Graphviz "
		"digraph to FILE\n"
		"  -v, --verbose    the build steps on stderr, HWPT ids in the "
		"tree\n"
		"  -h, --help       this text\n\n"
		"Exit status: 0 if every check passed, 1 if one failed or the "
		"topology\ncould not be built, 2 for a usage error. On SMMUv3 "
		"the VMs' processes\nrun on functions of their own (a nested "
		"STE hands a whole CD table to\none VM); see ionest(1).\n");
}

static int usage_error(const char *fmt, const char *arg)
{
	char msg[160];

	snprintf(msg, sizeof(msg), fmt, arg);
	tool_error("demo", "%s (try ionest demo --help)", msg);
	return 2;
}

/* The letters for the seed's PASIDs. */
static const char *pasid_name(uint32_t pasid, char *buf, size_t len)
{
	switch (pasid) {
	case SEED_PASID_A:
		return "a";
	case SEED_PASID_B:
		return "b";
	case SEED_PASID_C:
		return "c";
	case SEED_PASID_X:
		return "x";
	case SEED_PASID_Y:
		return "y";
	default:
		snprintf(buf, len, "%u", pasid);
		return buf;
	}
}

/* "[RID1]" / "[RID1, PASID x]" of one attachment. */
static void at_label(const struct seed *s, const struct seed_attach *a,
		     char *buf, size_t len)
{
	char p[16];

	if (a->pasid == IONEST_NO_PASID)
		snprintf(buf, len, "[%s]", s->devices[a->device].name);
	else
		snprintf(buf, len, "[%s, PASID %s]", s->devices[a->device].name,
			 pasid_name(a->pasid, p, sizeof(p)));
}

/* ---- The tree ---- */

struct line {
	char left[96], right[48], path[16], extra[48];
};

struct tree {
	struct line l[64];
	int n;
};

static struct line *add_line(struct tree *t)
{
	struct line *l = &t->l[t->n < 63 ? t->n++ : 63];

	memset(l, 0, sizeof(*l));
	return l;
}

static const struct seed_attach *find_attach(const struct seed *s, int dev,
					     int dom, bool guest_cd)
{
	for (int i = 0; i < s->nattach; i++)
		if (s->attach[i].device == dev && s->attach[i].domain == dom &&
		    s->attach[i].guest_cd == guest_cd)
			return &s->attach[i];
	return NULL;
}

static void dom_line(const struct seed *s, struct line *l, const char *indent,
		     int dom, const struct seed_attach *a, bool verbose)
{
	const struct seed_domain *d = &s->domains[dom];

	snprintf(l->left + strlen(l->left), sizeof(l->left) - strlen(l->left),
		 "%s%s (%s)", indent, d->name, d->label);
	if (a) {
		at_label(s, a, l->right, sizeof(l->right));
		if (a->path >= 0)
			snprintf(l->path, sizeof(l->path), "%s",
				 s->paths[a->path].name);
	}
	if (verbose)
		snprintf(l->extra, sizeof(l->extra), "hwpt %u, %s", d->hwpt_id,
			 d->format);
	else if (!a && d->kind == SEED_DOM_PARENT)
		snprintf(l->extra, sizeof(l->extra), "%s", d->format);
}

/*
 * One device: its directly attached domains, and for each nested domain
 * attached to it, its parent above it; under each nested domain the
 * guest's CD entries (SMMUv3).
 */
static void tree_device(const struct seed *s, int dev, struct tree *t,
			bool verbose)
{
	int roots[SEED_MAX_DOMAINS], nroots = 0;
	const char *name = s->devices[dev].name;
	char lead[16], cont[32];

	for (int i = 0; i < s->nattach; i++) {
		const struct seed_attach *a = &s->attach[i];
		int d = a->domain, root;
		bool seen = false;

		if (a->device != dev || a->guest_cd)
			continue;
		root = s->domains[d].kind == SEED_DOM_NESTED ?
			       s->domains[d].parent :
			       d;
		for (int k = 0; k < nroots; k++)
			seen |= roots[k] == root;
		if (!seen)
			roots[nroots++] = root;
	}
	snprintf(lead, sizeof(lead), "%*s", (int)strlen(name), "");
	for (int r = 0; r < nroots; r++) {
		struct line *l = add_line(t);
		bool last_root = r + 1 == nroots;
		int kids[SEED_MAX_DOMAINS], nkids = 0;

		if (!r)
			snprintf(l->left, sizeof(l->left), "%s --- ", name);
		else
			snprintf(l->left, sizeof(l->left), "%s %s ", lead,
				 last_root ? "`--" : "|--");
		dom_line(s, l, "", roots[r],
			 find_attach(s, dev, roots[r], false), verbose);
		snprintf(cont, sizeof(cont), "%s %s", lead,
			 last_root ? "   " : "|  ");
		for (int i = 0; i < s->nattach; i++) {
			const struct seed_attach *a = &s->attach[i];

			if (a->device == dev && !a->guest_cd &&
			    s->domains[a->domain].kind == SEED_DOM_NESTED &&
			    s->domains[a->domain].parent == roots[r])
				kids[nkids++] = a->domain;
		}
		for (int k = 0; k < nkids; k++) {
			const char *br = k + 1 == nkids ? "`-- " : "|-- ";
			int ncd = 0, icd = 0;

			l = add_line(t);
			snprintf(l->left, sizeof(l->left), "%s    %s", cont,
				 br);
			dom_line(s, l, "", kids[k],
				 find_attach(s, dev, kids[k], false), verbose);
			for (int i = 0; i < s->nattach; i++)
				ncd += s->attach[i].guest_cd &&
				       s->attach[i].device == dev &&
				       s->attach[i].domain == kids[k];
			for (int i = 0; i < s->nattach; i++) {
				const struct seed_attach *a = &s->attach[i];
				char p[16];

				if (!a->guest_cd || a->device != dev ||
				    a->domain != kids[k])
					continue;
				l = add_line(t);
				snprintf(l->left, sizeof(l->left),
					 "%s    %s   %s guest CD %s (%s)", cont,
					 k + 1 == nkids ? " " : "|",
					 ++icd == ncd ? "`--" : "|--",
					 pasid_name(a->pasid, p, sizeof(p)),
					 s->paths[a->path].name);
				at_label(s, a, l->right, sizeof(l->right));
				snprintf(l->path, sizeof(l->path), "%s",
					 s->paths[a->path].name);
			}
		}
	}
}

static void print_tree(const struct seed *s, bool verbose)
{
	static struct tree t;
	size_t w = 0, wr = 0;

	t.n = 0;
	for (int d = 0; d < s->ndevices; d++)
		tree_device(s, d, &t, verbose);
	for (int i = 0; i < t.n; i++) {
		if (strlen(t.l[i].left) > w)
			w = strlen(t.l[i].left);
		if (strlen(t.l[i].right) > wr)
			wr = strlen(t.l[i].right);
	}
	for (int i = 0; i < t.n; i++) {
		const struct line *l = &t.l[i];
		char buf[256];
		int n;

		n = snprintf(buf, sizeof(buf), "%-*s  %-*s", (int)w, l->left,
			     (int)wr, l->right);
		if (l->path[0])
			n += snprintf(buf + n, sizeof(buf) - (size_t)n,
				      "  path %s", l->path);
		if (l->extra[0])
			n += snprintf(buf + n, sizeof(buf) - (size_t)n, "%s%s",
				      l->path[0] ? ", " : "  ", l->extra);
		while (n > 0 && buf[n - 1] == ' ')
			buf[--n] = 0;
		puts(buf);
	}
}

static void print_text(const struct seed *s, const struct check_result *res,
		       int n, const struct seed_counters *c, bool verbose)
{
	int passed = 0;

	printf("seed topology on %s (%s), nesting %s\n", s->model, s->iommu,
	       seed_nesting_name(s->nesting));
	printf("PASIDs: a=%u b=%u c=%u x=%u y=%u\n\n", SEED_PASID_A,
	       SEED_PASID_B, SEED_PASID_C, SEED_PASID_X, SEED_PASID_Y);
	print_tree(s, verbose);
	if (!strcmp(s->model, "smmuv3"))
		printf("\nSMMUv3: a nested STE hands one VM the whole CD "
		       "table of a StreamID, so\nthe VMs' processes run on "
		       "functions of their own (RID1.1, RID1.2);\nRID1's "
		       "PASIDs x and y are stage-1 domains over the VMs' GPA "
		       "spaces.\n");
	printf("\nchecks:\n");
	for (int i = 0; i < n; i++) {
		int pad = 4 - (res[i].ok ? 2 : 4);

		fputs("  ", stdout);
		term_status(stdout, res[i].ok);
		printf("%*s %-21s %s\n", pad, "", res[i].name, res[i].detail);
		passed += res[i].ok;
	}
	printf("\ncounters (%s):\n", ionest_hw_name(s->hw));
	printf("  translations %llu, TLB hits %llu, TLB misses %llu\n",
	       (unsigned long long)c->translate, (unsigned long long)c->tlb_hit,
	       (unsigned long long)c->tlb_miss);
	printf("  walks %llu, memory reads %llu (%.1f per walk)\n",
	       (unsigned long long)c->walk, (unsigned long long)c->walk_read,
	       c->walk ? (double)c->walk_read / (double)c->walk : 0.0);
	printf("  faults %llu, events %llu, page requests %llu, "
	       "invalidations %llu\n",
	       (unsigned long long)c->fault, (unsigned long long)c->event,
	       (unsigned long long)c->page_request,
	       (unsigned long long)c->invalidation);
	/* In shadow mode the model walks single-stage shadow tables and
	 * records none of their faults: the driver's side of the story. */
	if (s->nesting == IONEST_NESTING_SHADOW)
		printf("  shadow tables (driver): syncs %llu, misses %llu "
		       "(filled %llu, faults reported %llu), drops %llu\n",
		       (unsigned long long)c->shadow_sync,
		       (unsigned long long)c->shadow_miss,
		       (unsigned long long)c->shadow_fill,
		       (unsigned long long)c->shadow_fault,
		       (unsigned long long)c->shadow_drop);
	printf("\n");
	printf("demo: ");
	term_status(stdout, passed == n);
	printf(" - %d of %d checks passed\n", passed, n);
}

/* ---- JSON ---- */

static void print_json(const struct seed *s, const struct check_result *res,
		       int n, const struct seed_counters *c)
{
	bool ok = true;

	printf("{\"version\":");
	json_put_str(stdout, IONEST_VERSION);
	printf(",\"iommu\":");
	json_put_str(stdout, s->model);
	printf(",\"nesting\":");
	json_put_str(stdout, seed_nesting_name(s->nesting));
	printf(",\"checks\":[");
	for (int i = 0; i < n; i++) {
		printf("%s{\"name\":", i ? "," : "");
		json_put_str(stdout, res[i].name);
		printf(",\"ok\":%s,\"detail\":", res[i].ok ? "true" : "false");
		json_put_str(stdout, res[i].detail);
		printf("}");
		ok &= res[i].ok;
	}
	printf("],\"counters\":{\"translate\":%llu,\"tlb_hit\":%llu,"
	       "\"tlb_miss\":%llu,\"walk\":%llu,\"walk_read\":%llu,"
	       "\"fault\":%llu,\"event\":%llu,\"page_request\":%llu,"
	       "\"invalidation\":%llu,\"shadow_sync\":%llu,"
	       "\"shadow_miss\":%llu,\"shadow_fill\":%llu,"
	       "\"shadow_fault\":%llu,\"shadow_drop\":%llu}",
	       (unsigned long long)c->translate, (unsigned long long)c->tlb_hit,
	       (unsigned long long)c->tlb_miss, (unsigned long long)c->walk,
	       (unsigned long long)c->walk_read, (unsigned long long)c->fault,
	       (unsigned long long)c->event,
	       (unsigned long long)c->page_request,
	       (unsigned long long)c->invalidation,
	       (unsigned long long)c->shadow_sync,
	       (unsigned long long)c->shadow_miss,
	       (unsigned long long)c->shadow_fill,
	       (unsigned long long)c->shadow_fault,
	       (unsigned long long)c->shadow_drop);
	printf(",\"ok\":%s}\n", ok ? "true" : "false");
}

/* ---- Graphviz ---- */

static int write_dot(const struct seed *s, const char *file)
{
	FILE *f = fopen(file, "w");

	if (!f)
		return -errno;
	fprintf(f,
		"digraph seed {\n\trankdir=LR;\n\tlabel=\"seed topology "
		"on %s\";\n\tnode [fontname=\"monospace\"];\n",
		s->model);
	for (int d = 0; d < s->ndevices; d++)
		fprintf(f,
			"\t\"%s\" [shape=box, label=\"%s\\nrid %02x:%02x.%x\"];\n",
			s->devices[d].name, s->devices[d].name,
			s->devices[d].rid >> 8, (s->devices[d].rid >> 3) & 0x1f,
			s->devices[d].rid & 7);
	for (int o = 0; o < SEED_OWNERS; o++) {
		fprintf(f, "\tsubgraph \"cluster_%s\" {\n\t\tlabel=\"%s\";\n",
			seed_owner_name(o), seed_owner_name(o));
		for (int i = 0; i < s->ndomains; i++) {
			const struct seed_domain *d = &s->domains[i];

			if (d->owner != o)
				continue;
			fprintf(f,
				"\t\t\"%s\" [shape=%s, label=\"%s\\n%s\\n%s\"];\n",
				d->name,
				d->kind == SEED_DOM_NESTED ? "ellipse" :
							     "box3d",
				d->name, d->label, d->format);
		}
		fprintf(f, "\t}\n");
	}
	for (int i = 0; i < s->ndomains; i++)
		if (s->domains[i].kind == SEED_DOM_NESTED &&
		    s->domains[i].parent >= 0)
			fprintf(f,
				"\t\"%s\" -> \"%s\" [style=dashed, "
				"label=\"parent\"];\n",
				s->domains[i].name,
				s->domains[s->domains[i].parent].name);
	for (int i = 0; i < s->nattach; i++) {
		const struct seed_attach *a = &s->attach[i];
		char p[16];

		fprintf(f, "\t\"%s\" -> \"%s\" [label=\"",
			s->devices[a->device].name, s->domains[a->domain].name);
		if (a->pasid == IONEST_NO_PASID)
			fprintf(f, "RID");
		else
			fprintf(f, "PASID %s",
				pasid_name(a->pasid, p, sizeof(p)));
		if (a->path >= 0)
			fprintf(f, "\\n%s", s->paths[a->path].name);
		fprintf(f, "\"%s];\n", a->guest_cd ? ", style=dotted" : "");
	}
	fprintf(f, "}\n");
	if (fclose(f))
		return -errno;
	return 0;
}

/* ---- The command ---- */

int cmd_demo(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "iommu", required_argument, NULL, 'i' },
		{ "nesting", required_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ "dot", required_argument, NULL, 'd' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct seed_opts so = { .iommu = "smmuv3" };
	struct check_result res[CHECKS_MAX];
	struct seed_counters c;
	const char *dot = NULL;
	bool json = false, verbose = false, ok = true;
	struct seed *s;
	char err[256];
	int ch, n, rc;

	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":hv", opts, NULL)) != -1) {
		switch (ch) {
		case 'i':
			if (strcmp(optarg, "smmuv3") && strcmp(optarg, "vtd"))
				return usage_error("unknown IOMMU model '%s'",
						   optarg);
			so.iommu = optarg;
			break;
		case 'n':
			if (!strcmp(optarg, "hw"))
				so.nesting = IONEST_NESTING_HW;
			else if (!strcmp(optarg, "shadow"))
				so.nesting = IONEST_NESTING_SHADOW;
			else
				return usage_error("unknown nesting mode '%s'",
						   optarg);
			break;
		case 'j':
			json = true;
			break;
		case 'd':
			dot = optarg;
			break;
		case 'v':
			verbose = true;
			break;
		case 'h':
			help(stdout);
			return 0;
		case ':':
			return usage_error("%s needs an argument",
					   argv[optind - 1]);
		default:
			return usage_error("unknown option '%s'",
					   argv[optind - 1]);
		}
	}
	if (optind < argc)
		return usage_error("unexpected argument '%s'", argv[optind]);
	if (verbose)
		so.log = stderr;

	rc = seed_new(&so, &s, err, sizeof(err));
	if (rc) {
		tool_error("demo", "cannot build the seed topology on %s: %s",
			   so.iommu, err);
		return 1;
	}
	if (dot) {
		rc = write_dot(s, dot);
		if (rc) {
			tool_error("demo", "%s: %s", dot, strerror(-rc));
			seed_free(s);
			return 1;
		}
	}
	n = checks_run_all(s, res, CHECKS_MAX);
	rc = seed_counters(s, &c);
	if (rc)
		tool_error("demo", "counters of %s: %s", ionest_hw_name(s->hw),
			   strerror(-rc));
	for (int i = 0; i < n; i++)
		ok &= res[i].ok;
	if (json)
		print_json(s, res, n, &c);
	else
		print_text(s, res, n, &c, verbose);
	seed_free(s);
	if (fflush(stdout)) {
		tool_error("demo", "writing the output: %s", strerror(errno));
		return 1;
	}
	return ok && n > 0 ? 0 : 1;
}
