// SPDX-License-Identifier: MIT
/*
 * ionest topology [--text|--json|--dot] [FILE]: load a machine file, build
 * the machine (so everything a program would meet is checked: drivers,
 * register values, RIDs) and print it as a text tree, JSON or a Graphviz
 * graph.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ionest/ionest.h>

#include "commands.h"
#include "machine/config.h"

enum fmt { FMT_TEXT, FMT_JSON, FMT_DOT };

static void help(FILE *f)
{
	fprintf(f,
		"usage: ionest topology [--text | --json | --dot] [FILE]\n\n"
		"Load the machine file FILE (default: $IONEST_CONFIG), build "
		"the machine\nand print its IOMMUs and devices: a text tree "
		"(default), JSON, or a\nGraphviz digraph. Errors name the file, "
		"line and field.\n");
}

static void bdf(char *buf, size_t len, const struct mcfg_device *d)
{
	if (d->rid <= 0xffff)
		snprintf(buf, len, "%02x:%02x.%x", d->rid >> 8,
			 (d->rid >> 3) & 0x1f, d->rid & 7);
	else
		snprintf(buf, len, "-");
}

static void caps(char *buf, size_t len, const struct mcfg_device *d)
{
	snprintf(buf, len, "%s%s%s%s", d->ats ? " ats" : "",
		 d->pri ? " pri" : "", d->pasid_exec ? " pasid_exec" : "",
		 d->pasid_priv ? " pasid_priv" : "");
}

/* name=value (text) or name":value (JSON, @sep ""). */
static void print_value(const char *sep, const struct mcfg_override *o)
{
	const char *eq = *sep ? "=" : "\":";

	if (o->field->boolean)
		printf("%s%s%s%s", sep, o->field->name, eq,
		       o->value ? "true" : "false");
	else
		printf("%s%s%s%llu", sep, o->field->name, eq,
		       (unsigned long long)o->value);
}

static bool can_nest(struct ionest_machine *m, const struct mcfg_iommu *io)
{
	struct ionest_hw *hw = ionest_machine_iommu(m, io->name);

	return hw && ionest_hw_can_nest(hw);
}

/* Devices of IOMMU @i in VFIO order. */
static unsigned devices_of(const struct machine_config *c, unsigned i,
			   const struct mcfg_device **out)
{
	unsigned n = 0;

	for (unsigned v = 0; v < c->ndevices; v++) {
		const struct mcfg_device *d = machine_config_vfio(c, (int)v);

		if (d && d->iommu_index == i)
			out[n++] = d;
	}
	return n;
}

static void print_text(const struct machine_config *c, struct ionest_machine *m,
		       const struct mcfg_device **devs)
{
	printf("machine %s: %u IOMMU%s, %u device%s\n", c->file, c->niommus,
	       c->niommus == 1 ? "" : "s", c->ndevices,
	       c->ndevices == 1 ? "" : "s");
	for (unsigned i = 0; i < c->niommus; i++) {
		const struct mcfg_iommu *io = &c->iommus[i];
		unsigned n = devices_of(c, i, devs);

		printf("%s %s: %s, nesting %s%s\n",
		       i + 1 < c->niommus ? "|--" : "`--", io->name,
		       mcfg_model_name(io->model),
		       mcfg_nesting_name(io->nesting),
		       can_nest(m, io) ? " (can nest)" : "");
		if (io->nover) {
			printf("%s   config:", i + 1 < c->niommus ? "|" : " ");
			for (unsigned k = 0; k < io->nover; k++)
				print_value(" ", &io->over[k]);
			printf("\n");
		}
		for (unsigned k = 0; k < n; k++) {
			char b[16], cp[64];

			bdf(b, sizeof(b), devs[k]);
			caps(cp, sizeof(cp), devs[k]);
			printf("%s   %s vfio%d %s rid 0x%04x%s%s pasid %u%s\n",
			       i + 1 < c->niommus ? "|" : " ",
			       k + 1 < n ? "|--" : "`--", devs[k]->vfio, b,
			       devs[k]->rid, devs[k]->name[0] ? " " : "",
			       devs[k]->name, devs[k]->pasid_bits, cp);
		}
	}
}

static void json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			printf("\\%c", ch);
		else if (ch < 0x20)
			printf("\\u%04x", ch);
		else
			putchar(ch);
	}
	putchar('"');
}

static void print_json(const struct machine_config *c, struct ionest_machine *m,
		       const struct mcfg_device **devs)
{
	printf("{\"file\":");
	json_str(c->file);
	printf(",\"iommus\":[");
	for (unsigned i = 0; i < c->niommus; i++) {
		const struct mcfg_iommu *io = &c->iommus[i];
		unsigned n = devices_of(c, i, devs);

		printf("%s{\"name\":", i ? "," : "");
		json_str(io->name);
		printf(",\"model\":\"%s\",\"nesting\":\"%s\",\"can_nest\":%s,"
		       "\"config\":{",
		       mcfg_model_name(io->model),
		       mcfg_nesting_name(io->nesting),
		       can_nest(m, io) ? "true" : "false");
		for (unsigned k = 0; k < io->nover; k++) {
			printf("%s\"", k ? "," : "");
			print_value("", &io->over[k]);
		}
		printf("},\"devices\":[");
		for (unsigned k = 0; k < n; k++) {
			const struct mcfg_device *d = devs[k];
			char b[16];

			bdf(b, sizeof(b), d);
			printf("%s{\"vfio\":%d,\"path\":\"/dev/vfio/devices/"
			       "vfio%d\",\"name\":",
			       k ? "," : "", d->vfio, d->vfio);
			json_str(d->name);
			printf(",\"bdf\":\"%s\",\"rid\":%u,\"pasid_bits\":%u,"
			       "\"ats\":%s,\"pri\":%s,\"pasid_exec\":%s,"
			       "\"pasid_priv\":%s}",
			       b, d->rid, d->pasid_bits,
			       d->ats ? "true" : "false",
			       d->pri ? "true" : "false",
			       d->pasid_exec ? "true" : "false",
			       d->pasid_priv ? "true" : "false");
		}
		printf("]}");
	}
	printf("]}\n");
}

static void print_dot(const struct machine_config *c, struct ionest_machine *m,
		      const struct mcfg_device **devs)
{
	printf("digraph machine {\n\trankdir=LR;\n");
	for (unsigned i = 0; i < c->niommus; i++) {
		const struct mcfg_iommu *io = &c->iommus[i];
		unsigned n = devices_of(c, i, devs);

		printf("\t\"iommu:%s\" [shape=box,label=\"%s\\n%s, nesting "
		       "%s%s\"];\n",
		       io->name, io->name, mcfg_model_name(io->model),
		       mcfg_nesting_name(io->nesting),
		       can_nest(m, io) ? "\\ncan nest" : "");
		for (unsigned k = 0; k < n; k++) {
			const struct mcfg_device *d = devs[k];
			char b[16], cp[64];

			bdf(b, sizeof(b), d);
			caps(cp, sizeof(cp), d);
			printf("\t\"vfio%d\" [shape=ellipse,label=\"vfio%d%s%s"
			       "\\n%s pasid %u%s\"];\n",
			       d->vfio, d->vfio, d->name[0] ? " " : "", d->name,
			       b, d->pasid_bits, cp);
			printf("\t\"vfio%d\" -> \"iommu:%s\";\n", d->vfio,
			       io->name);
		}
	}
	printf("}\n");
}

int cmd_topology(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "text", no_argument, NULL, 't' },
		{ "json", no_argument, NULL, 'j' },
		{ "dot", no_argument, NULL, 'd' },
		{ NULL, 0, NULL, 0 },
	};
	const struct mcfg_device **devs;
	struct machine_config *c;
	struct ionest_machine *m;
	enum fmt fmt = FMT_TEXT;
	const char *file;
	char err[512];
	int opt, rc;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (opt) {
		case 'h':
			help(stdout);
			return 0;
		case 't':
			fmt = FMT_TEXT;
			break;
		case 'j':
			fmt = FMT_JSON;
			break;
		case 'd':
			fmt = FMT_DOT;
			break;
		default:
			tool_error("topology", "unknown option '%s'",
				   argv[optind - 1]);
			help(stderr);
			return 2;
		}
	}
	if (argc - optind > 1) {
		tool_error("topology", "one machine file at a time");
		return 2;
	}
	file = optind < argc ? argv[optind] : getenv("IONEST_CONFIG");
	if (!file || !*file) {
		tool_error("topology",
			   "no machine file (give FILE or set IONEST_CONFIG)");
		return 2;
	}
	rc = machine_config_load(file, &c, err, sizeof(err));
	if (rc) {
		tool_error("topology", "%s", err[0] ? err : "cannot load");
		return 1;
	}
	rc = machine_config_build(c, &m, err, sizeof(err));
	if (rc) {
		tool_error("topology", "%s", err[0] ? err : "cannot build");
		machine_config_free(c);
		return 1;
	}
	devs = calloc(c->ndevices ? c->ndevices : 1, sizeof(*devs));
	if (!devs) {
		tool_error("topology", "out of memory");
		rc = 1;
	} else if (fmt == FMT_JSON) {
		print_json(c, m, devs);
	} else if (fmt == FMT_DOT) {
		print_dot(c, m, devs);
	} else {
		print_text(c, m, devs);
	}
	free(devs);
	ionest_machine_free(m);
	machine_config_free(c);
	if (fflush(stdout)) {
		tool_error("topology", "cannot write the output");
		return 1;
	}
	return rc ? 1 : 0;
}
