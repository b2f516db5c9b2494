/* SPDX-License-Identifier: MIT */
/*
 * What the machine-file parsers share (internal to lib/machine): the
 * parse context and the node helpers of config_yaml.c, for the parsers of
 * other sections (config_scenario.c). Every error is "FILE:LINE: PATH:
 * what" in the context's buffer, returned as -EINVAL.
 */
#ifndef IONEST_MACHINE_CONFIG_YAML_H
#define IONEST_MACHINE_CONFIG_YAML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <yaml.h>

#include "machine/config.h"

struct mcfg_yctx {
	yaml_document_t *doc;
	const char *file;
	char *err;
	size_t errlen;
	struct machine_config *c;
};

/* A mapping's key, and its value once mcfg_y_keys found it. */
struct mcfg_ykey {
	const char *name;
	const yaml_node_t *node; /* the value */
	const yaml_node_t *knode;
};
#define MCFG_YKEY(n)        \
	{                   \
		.name = (n) \
	}

int mcfg_y_line(const yaml_node_t *n);
int mcfg_y_fail(struct mcfg_yctx *x, const yaml_node_t *n, const char *path,
		const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* The text of a scalar node, or NULL. */
const char *mcfg_y_scalar(const yaml_node_t *n);
/* An empty value, ~ or null. */
bool mcfg_y_null(const yaml_node_t *n);
/* A plain integer in [min, max]. */
int mcfg_y_uint(struct mcfg_yctx *x, const yaml_node_t *n, const char *path,
		uint64_t min, uint64_t max, uint64_t *out);
/* A name of 1..max-1 characters of [A-Za-z0-9_.-]. */
int mcfg_y_name(struct mcfg_yctx *x, const yaml_node_t *n, const char *path,
		char *out, size_t max);
/* The values of a mapping's keys (NULL-name terminated); unknown and
 * repeated keys are errors. */
int mcfg_y_keys(struct mcfg_yctx *x, const yaml_node_t *n, const char *path,
		struct mcfg_ykey *keys);
/* A list and its length. */
int mcfg_y_seq(struct mcfg_yctx *x, const yaml_node_t *n, const char *path,
	       unsigned *count);
yaml_node_t *mcfg_y_item(struct mcfg_yctx *x, const yaml_node_t *n, unsigned i);

/* config_scenario.c: the `scenario` section into x->c->scenario. */
int mcfg_scenario_parse(struct mcfg_yctx *x, const yaml_node_t *n);
void mcfg_scenario_free(struct mcfg_scenario *s);

#endif
