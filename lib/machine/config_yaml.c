// SPDX-License-Identifier: MIT
/*
 * The YAML machine-file loader: libyaml builds the document tree, we walk
 * it against the schema of docs/machine-files.md. Every error names the
 * file, the line of the offending node and the field ("m.yaml:7:
 * devices[1].pasid: expected an integer 0..20"); unknown keys and repeated
 * keys are errors.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "machine/config.h"
#include "machine/config_yaml.h"
#include "util/alloc.h"

#define MCFG_MAX_FILE (16u << 20) /* a machine file is small */
#define MCFG_MAX_ITEMS 16384 /* the machine's device limit */

static int line_of(const yaml_node_t *n)
{
	return n ? (int)n->start_mark.line + 1 : 0;
}

static int fail(struct mcfg_yctx *x, const yaml_node_t *n, const char *path,
		const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int fail(struct mcfg_yctx *x, const yaml_node_t *n, const char *path,
		const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (path && *path)
		return mcfg_error(x->err, x->errlen, x->file, line_of(n),
				  -EINVAL, "%s: %s", path, msg);
	return mcfg_error(x->err, x->errlen, x->file, line_of(n), -EINVAL, "%s",
			  msg);
}

/* ---- Scalars ---- */

/* The scalar text of @n, or NULL if @n is not a scalar (or holds a NUL). */
static const char *scalar(const yaml_node_t *n)
{
	if (!n || n->type != YAML_SCALAR_NODE)
		return NULL;
	if (strlen((const char *)n->data.scalar.value) != n->data.scalar.length)
		return NULL;
	return (const char *)n->data.scalar.value;
}

static bool plain(const yaml_node_t *n)
{
	return n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
}

/* Unsigned integer in decimal, 0x hex, 0o octal or 0b binary. */
static bool parse_u64(const char *s, uint64_t *out)
{
	unsigned base = 10;
	uint64_t v = 0;

	if (!*s)
		return false;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		base = 16;
	else if (s[0] == '0' && (s[1] == 'o' || s[1] == 'O'))
		base = 8;
	else if (s[0] == '0' && (s[1] == 'b' || s[1] == 'B'))
		base = 2;
	if (base != 10) {
		s += 2;
		if (!*s)
			return false;
	}
	for (; *s; s++) {
		unsigned d;

		if (*s >= '0' && *s <= '9')
			d = (unsigned)(*s - '0');
		else if (*s >= 'a' && *s <= 'f')
			d = (unsigned)(*s - 'a' + 10);
		else if (*s >= 'A' && *s <= 'F')
			d = (unsigned)(*s - 'A' + 10);
		else
			return false;
		if (d >= base || v > (UINT64_MAX - d) / base)
			return false;
		v = v * base + d;
	}
	*out = v;
	return true;
}

static bool parse_bool(const char *s, bool *out)
{
	if (!strcmp(s, "true") || !strcmp(s, "True") || !strcmp(s, "TRUE")) {
		*out = true;
		return true;
	}
	if (!strcmp(s, "false") || !strcmp(s, "False") || !strcmp(s, "FALSE")) {
		*out = false;
		return true;
	}
	return false;
}

static int get_uint(struct mcfg_yctx *x, const yaml_node_t *n, const char *path,
		    uint64_t min, uint64_t max, uint64_t *out)
{
	const char *s = scalar(n);

	if (!s || !plain(n) || !parse_u64(s, out) || *out < min || *out > max) {
		if (max == UINT64_MAX)
			return fail(x, n, path, "expected an integer >= %llu",
				    (unsigned long long)min);
		return fail(x, n, path, "expected an integer %llu..%llu",
			    (unsigned long long)min, (unsigned long long)max);
	}
	return 0;
}

/* true/false, or 0/1 where @numeric. */
static int get_bool(struct mcfg_yctx *x, const yaml_node_t *n, const char *path,
		    bool *out)
{
	const char *s = scalar(n);

	if (s && plain(n)) {
		if (parse_bool(s, out))
			return 0;
		if (!strcmp(s, "0") || !strcmp(s, "1")) {
			*out = s[0] == '1';
			return 0;
		}
	}
	return fail(x, n, path, "expected true or false");
}

/* A name: 1..@max-1 characters of [A-Za-z0-9_.-]. */
static int get_name(struct mcfg_yctx *x, const yaml_node_t *n, const char *path,
		    char *out, size_t max)
{
	const char *s = scalar(n);
	size_t len;

	if (!s)
		return fail(x, n, path, "expected a name");
	len = strlen(s);
	if (!len || len >= max)
		return fail(x, n, path, "expected a name of 1..%zu characters",
			    max - 1);
	for (const char *p = s; *p; p++) {
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '_' || *p == '-' ||
		      *p == '.'))
			return fail(
				x, n, path,
				"'%s': a name is letters, digits, '_', '-' and '.'",
				s);
	}
	memcpy(out, s, len + 1);
	return 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Up to @max hex digits ending at @stop; advances *s. */
static bool hexfield(const char **s, unsigned max, char stop, unsigned *out)
{
	unsigned v = 0, n = 0;

	while (**s && **s != stop) {
		int d = hexval(**s);

		if (d < 0 || ++n > max)
			return false;
		v = v * 16 + (unsigned)d;
		(*s)++;
	}
	if (!n || **s != stop)
		return false;
	if (stop)
		(*s)++;
	*out = v;
	return true;
}

/* "BB:DD.F" or "0000:BB:DD.F" (one PCI segment). */
static bool parse_bdf(const char *s, uint32_t *rid)
{
	unsigned seg = 0, bus, dev, fn;
	const char *p = s;
	int colons = 0;

	for (const char *q = s; *q; q++)
		colons += *q == ':';
	if (colons == 2 && (!hexfield(&p, 4, ':', &seg) || seg))
		return false;
	if (colons != 1 && colons != 2)
		return false;
	if (!hexfield(&p, 2, ':', &bus) || !hexfield(&p, 2, '.', &dev) ||
	    !hexfield(&p, 1, '\0', &fn) || dev > 0x1f || fn > 7)
		return false;
	*rid = bus << 8 | dev << 3 | fn;
	return true;
}

/* ---- Mappings ---- */

#define K(n) MCFG_YKEY(n)

/*
 * Collect the values of @n's keys into @keys (NULL-name terminated, node
 * pointers cleared first): unknown keys and repeated keys are errors.
 */
static int get_keys(struct mcfg_yctx *x, const yaml_node_t *n, const char *path,
		    struct mcfg_ykey *keys)
{
	for (struct mcfg_ykey *k = keys; k->name; k++)
		k->node = k->knode = NULL;
	if (!n || n->type != YAML_MAPPING_NODE)
		return fail(x, n, path, "expected a mapping");
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start;
	     p < n->data.mapping.pairs.top; p++) {
		yaml_node_t *kn = yaml_document_get_node(x->doc, p->key);
		yaml_node_t *vn = yaml_document_get_node(x->doc, p->value);
		const char *ks = scalar(kn);
		struct mcfg_ykey *k;

		if (!ks)
			return fail(x, kn, path, "keys must be plain names");
		for (k = keys; k->name; k++) {
			if (!strcmp(k->name, ks))
				break;
		}
		if (!k->name)
			return fail(x, kn, path, "unknown key '%s'", ks);
		if (k->node)
			return fail(x, kn, path, "'%s' given twice", ks);
		k->node = vn;
		k->knode = kn;
	}
	return 0;
}

static bool is_null(const yaml_node_t *n)
{
	const char *s = scalar(n);

	return s && plain(n) && (!*s || !strcmp(s, "~") || !strcmp(s, "null"));
}

static int get_seq(struct mcfg_yctx *x, const yaml_node_t *n, const char *path,
		   unsigned *count)
{
	if (!n || n->type != YAML_SEQUENCE_NODE)
		return fail(x, n, path, "expected a list");
	*count = (unsigned)(n->data.sequence.items.top -
			    n->data.sequence.items.start);
	if (*count > MCFG_MAX_ITEMS)
		return fail(x, n, path, "more than %u entries", MCFG_MAX_ITEMS);
	return 0;
}

static yaml_node_t *seq_item(struct mcfg_yctx *x, const yaml_node_t *n,
			     unsigned i)
{
	return yaml_document_get_node(x->doc, n->data.sequence.items.start[i]);
}

/* ---- IOMMUs ---- */

static int parse_overrides(struct mcfg_yctx *x, struct mcfg_iommu *io,
			   const yaml_node_t *n, const char *ipath)
{
	char path[128];

	snprintf(path, sizeof(path), "%s.config", ipath);
	io->config_line = line_of(n);
	if (is_null(n))
		return 0;
	if (n->type != YAML_MAPPING_NODE)
		return fail(x, n, path, "expected a mapping of %s fields",
			    mcfg_model_name(io->model));
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start;
	     p < n->data.mapping.pairs.top; p++) {
		yaml_node_t *kn = yaml_document_get_node(x->doc, p->key);
		yaml_node_t *vn = yaml_document_get_node(x->doc, p->value);
		const char *ks = scalar(kn);
		const struct mcfg_field *f;
		uint64_t v;
		bool b;
		int rc;

		if (!ks)
			return fail(x, kn, path, "keys must be plain names");
		f = mcfg_field_find(io->model, ks);
		if (!f)
			return fail(
				x, kn, path,
				"unknown key '%s' for model %s (see docs/machine-files.md)",
				ks, mcfg_model_name(io->model));
		for (unsigned i = 0; i < io->nover; i++) {
			if (io->over[i].field == f)
				return fail(x, kn, path, "'%s' given twice",
					    ks);
		}
		snprintf(path, sizeof(path), "%s.config.%s", ipath, ks);
		if (f->boolean && scalar(vn) && plain(vn) &&
		    parse_bool(scalar(vn), &b)) {
			v = b;
		} else {
			rc = get_uint(x, vn, path, f->min, f->max, &v);
			if (rc)
				return rc;
		}
		io->over[io->nover].field = f;
		io->over[io->nover].value = v;
		io->over[io->nover].line = line_of(vn);
		io->nover++;
		mcfg_field_set(io, f, v);
		snprintf(path, sizeof(path), "%s.config", ipath);
	}
	return 0;
}

static int parse_iommu(struct mcfg_yctx *x, const yaml_node_t *n, unsigned idx)
{
	struct mcfg_iommu *io = &x->c->iommus[idx];
	struct mcfg_ykey keys[] = {
		K("name"), K("model"), K("nesting"), K("config"), K(NULL),
	};
	char path[64], sub[96];
	const char *s;
	int rc, m;

	snprintf(path, sizeof(path), "iommus[%u]", idx);
	rc = get_keys(x, n, path, keys);
	if (rc)
		return rc;
	io->line = line_of(n);
	if (!keys[0].node)
		return fail(x, n, path, "missing key 'name'");
	snprintf(sub, sizeof(sub), "%s.name", path);
	rc = get_name(x, keys[0].node, sub, io->name, sizeof(io->name));
	if (rc)
		return rc;
	for (unsigned i = 0; i < idx; i++) {
		if (!strcmp(x->c->iommus[i].name, io->name))
			return fail(x, keys[0].node, sub,
				    "'%s' is already the name of iommus[%u]",
				    io->name, i);
	}
	if (!keys[1].node)
		return fail(x, n, path, "missing key 'model'");
	snprintf(sub, sizeof(sub), "%s.model", path);
	s = scalar(keys[1].node);
	m = s ? mcfg_model_find(s) : -1;
	if (m < 0)
		return fail(x, keys[1].node, sub,
			    "expected smmuv3, vtd or mock");
	io->model = (enum mcfg_model)m;
	io->nesting = MCFG_NEST_AUTO;
	if (keys[2].node) {
		snprintf(sub, sizeof(sub), "%s.nesting", path);
		s = scalar(keys[2].node);
		if (s && !strcmp(s, "hw"))
			io->nesting = MCFG_NEST_HW;
		else if (s && !strcmp(s, "shadow"))
			io->nesting = MCFG_NEST_SHADOW;
		else if (!s || strcmp(s, "auto"))
			return fail(x, keys[2].node, sub,
				    "expected hw, shadow or auto");
	}
	if (keys[3].node) {
		rc = parse_overrides(x, io, keys[3].node, path);
		io->config_line = line_of(keys[3].knode);
		return rc;
	}
	return 0;
}

/* ---- Devices ---- */

static int parse_device(struct mcfg_yctx *x, const yaml_node_t *n, unsigned idx)
{
	struct mcfg_device *d = &x->c->devices[idx];
	struct mcfg_ykey keys[] = {
		K("name"),	 K("bdf"),  K("rid"), K("iommu"),
		K("pasid"),	 K("ats"),  K("pri"), K("pasid_exec"),
		K("pasid_priv"), K("vfio"), K(NULL),
	};
	char path[64], sub[96];
	uint64_t v;
	int rc;

	snprintf(path, sizeof(path), "devices[%u]", idx);
	rc = get_keys(x, n, path, keys);
	if (rc)
		return rc;
	d->line = line_of(n);
	d->vfio = -1;
	if (keys[0].node) {
		snprintf(sub, sizeof(sub), "%s.name", path);
		rc = get_name(x, keys[0].node, sub, d->name, sizeof(d->name));
		if (rc)
			return rc;
		for (unsigned i = 0; i < idx; i++) {
			if (!strcmp(x->c->devices[i].name, d->name))
				return fail(
					x, keys[0].node, sub,
					"'%s' is already the name of devices[%u]",
					d->name, i);
		}
	}
	if (keys[1].node && keys[2].node)
		return fail(x, keys[2].knode, path,
			    "give either 'bdf' or 'rid', not both");
	if (keys[1].node) {
		const char *s = scalar(keys[1].node);

		snprintf(sub, sizeof(sub), "%s.bdf", path);
		if (!s || !parse_bdf(s, &d->rid))
			return fail(
				x, keys[1].node, sub,
				"expected a PCI address \"BB:DD.F\" (hex bus, device 00..1f, function 0..7)");
		d->has_bdf = true;
		d->rid_line = line_of(keys[1].node);
	} else if (keys[2].node) {
		snprintf(sub, sizeof(sub), "%s.rid", path);
		rc = get_uint(x, keys[2].node, sub, 0, UINT32_MAX, &v);
		if (rc)
			return rc;
		d->rid = (uint32_t)v;
		d->rid_line = line_of(keys[2].node);
	} else {
		return fail(x, n, path, "missing key 'bdf' (or 'rid')");
	}
	if (!keys[3].node)
		return fail(x, n, path, "missing key 'iommu'");
	snprintf(sub, sizeof(sub), "%s.iommu", path);
	rc = get_name(x, keys[3].node, sub, d->iommu, sizeof(d->iommu));
	if (rc)
		return rc;
	d->iommu_line = line_of(keys[3].node);
	d->iommu_index = x->c->niommus;
	for (unsigned i = 0; i < x->c->niommus; i++) {
		if (!strcmp(x->c->iommus[i].name, d->iommu))
			d->iommu_index = i;
	}
	if (d->iommu_index == x->c->niommus)
		return fail(x, keys[3].node, sub, "no IOMMU named '%s'",
			    d->iommu);
	if (keys[4].node) {
		snprintf(sub, sizeof(sub), "%s.pasid", path);
		rc = get_uint(x, keys[4].node, sub, 0, 20, &v);
		if (rc)
			return rc;
		d->pasid_bits = (uint8_t)v;
	}
	for (int i = 5; i <= 8; i++) {
		bool *dst[] = { &d->ats, &d->pri, &d->pasid_exec,
				&d->pasid_priv };

		if (!keys[i].node)
			continue;
		snprintf(sub, sizeof(sub), "%s.%s", path, keys[i].name);
		rc = get_bool(x, keys[i].node, sub, dst[i - 5]);
		if (rc)
			return rc;
	}
	/* PCIe: PRI is part of ATS; the PASID capability bits describe a
	 * PASID capability that must exist. */
	if (d->pri && !d->ats)
		return fail(
			x, keys[6].node, path,
			"pri: true needs ats: true (PRI is an ATS feature)");
	if ((d->pasid_exec || d->pasid_priv) && !d->pasid_bits)
		return fail(x, keys[d->pasid_exec ? 7 : 8].node, path,
			    "%s needs a PASID capability (pasid: 1..20)",
			    d->pasid_exec ? "pasid_exec" : "pasid_priv");
	if (keys[9].node) {
		snprintf(sub, sizeof(sub), "%s.vfio", path);
		rc = get_uint(x, keys[9].node, sub, 0, MCFG_MAX_ITEMS - 1, &v);
		if (rc)
			return rc;
		d->vfio = (int)v;
		d->vfio_given = true;
		d->vfio_line = line_of(keys[9].node);
	}
	return 0;
}

/* Unique RIDs per IOMMU; VFIO numbers: the given ones unique, the others
 * the lowest free in file order, all together exactly 0..n-1. */
static int check_devices(struct mcfg_yctx *x)
{
	struct machine_config *c = x->c;
	unsigned n = c->ndevices;
	char path[64];
	int *owner;

	for (unsigned i = 0; i < n; i++) {
		struct mcfg_device *d = &c->devices[i];

		for (unsigned j = 0; j < i; j++) {
			struct mcfg_device *e = &c->devices[j];

			if (e->iommu_index != d->iommu_index ||
			    e->rid != d->rid)
				continue;
			snprintf(path, sizeof(path), "devices[%u].%s", i,
				 d->has_bdf ? "bdf" : "rid");
			return mcfg_error(
				x->err, x->errlen, x->file, d->rid_line,
				-EINVAL,
				"%s: RID 0x%04x is already devices[%u] on %s",
				path, d->rid, j, d->iommu);
		}
	}
	owner = xcalloc(n ? n : 1, sizeof(*owner));
	if (!owner)
		return -ENOMEM;
	for (unsigned i = 0; i < n; i++)
		owner[i] = -1;
	for (unsigned i = 0; i < n; i++) {
		struct mcfg_device *d = &c->devices[i];

		if (!d->vfio_given)
			continue;
		snprintf(path, sizeof(path), "devices[%u].vfio", i);
		if ((unsigned)d->vfio >= n) {
			xfree(owner);
			return mcfg_error(
				x->err, x->errlen, x->file, d->vfio_line,
				-EINVAL,
				"%s: %d leaves a gap: with %u devices the numbers are 0..%u",
				path, d->vfio, n, n - 1);
		}
		if (owner[d->vfio] >= 0) {
			int j = owner[d->vfio];

			xfree(owner);
			return mcfg_error(x->err, x->errlen, x->file,
					  d->vfio_line, -EINVAL,
					  "%s: vfio%d is already devices[%d]",
					  path, d->vfio, j);
		}
		owner[d->vfio] = (int)i;
	}
	for (unsigned i = 0, next = 0; i < n; i++) {
		struct mcfg_device *d = &c->devices[i];

		if (d->vfio_given)
			continue;
		while (owner[next] >= 0)
			next++;
		d->vfio = (int)next;
		owner[next] = (int)i;
	}
	xfree(owner);
	return 0;
}

/* ---- The document ---- */

static int parse_root(struct mcfg_yctx *x, const yaml_node_t *root)
{
	struct mcfg_ykey keys[] = { K("version"), K("iommus"), K("devices"),
				    K("scenario"), K(NULL) };
	struct machine_config *c = x->c;
	unsigned n = 0;
	uint64_t v;
	int rc;

	rc = get_keys(x, root, "", keys);
	if (rc)
		return rc;
	c->version = 1;
	if (keys[0].node) {
		rc = get_uint(x, keys[0].node, "version", 1, 1, &v);
		if (rc)
			return rc;
	}
	if (!keys[1].node)
		return fail(x, root, "", "missing key 'iommus'");
	rc = get_seq(x, keys[1].node, "iommus", &n);
	if (rc)
		return rc;
	if (!n)
		return fail(x, keys[1].node, "iommus",
			    "a machine needs at least one IOMMU");
	c->iommus = xcalloc(n, sizeof(*c->iommus));
	if (!c->iommus)
		return -ENOMEM;
	for (unsigned i = 0; i < n; i++) {
		rc = parse_iommu(x, seq_item(x, keys[1].node, i), i);
		if (rc)
			return rc;
		c->niommus = i + 1;
	}
	if (keys[2].node && !is_null(keys[2].node)) {
		rc = get_seq(x, keys[2].node, "devices", &n);
		if (rc)
			return rc;
		if (n) {
			c->devices = xcalloc(n, sizeof(*c->devices));
			if (!c->devices)
				return -ENOMEM;
		}
		for (unsigned i = 0; i < n; i++) {
			rc = parse_device(x, seq_item(x, keys[2].node, i), i);
			if (rc)
				return rc;
			c->ndevices = i + 1;
		}
		rc = check_devices(x);
		if (rc)
			return rc;
	}
	/* After the devices: the scenario names them. */
	if (keys[3].node && !is_null(keys[3].node))
		return mcfg_scenario_parse(x, keys[3].node);
	return 0;
}

static int yaml_fail(struct mcfg_yctx *x, const yaml_parser_t *p)
{
	if (p->error == YAML_MEMORY_ERROR)
		return -ENOMEM;
	/* problem_mark is where the parser gave up: that line is the one
	 * to look at even when a context started earlier. */
	return mcfg_error(x->err, x->errlen, x->file,
			  (int)p->problem_mark.line + 1, -EINVAL,
			  "YAML syntax error: %s%s%s",
			  p->problem ? p->problem : "malformed",
			  p->context ? " " : "", p->context ? p->context : "");
}

int machine_config_parse(const char *file, const char *buf, size_t len,
			 struct machine_config **out, char *err, size_t errlen)
{
	struct machine_config *c;
	yaml_document_t doc, extra;
	yaml_parser_t parser;
	struct mcfg_yctx x = { .file = file ? file : "<machine>",
			       .err = err,
			       .errlen = errlen };
	yaml_node_t *root;
	int rc;

	*out = NULL;
	if (err && errlen)
		err[0] = '\0';
	if (!buf && len)
		return -EINVAL;
	c = xzalloc(sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->file = xmalloc(strlen(x.file) + 1);
	if (!c->file) {
		xfree(c);
		return -ENOMEM;
	}
	strcpy(c->file, x.file);
	x.c = c;
	if (!yaml_parser_initialize(&parser)) {
		machine_config_free(c);
		return -ENOMEM;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
	if (!yaml_parser_load(&parser, &doc)) {
		rc = yaml_fail(&x, &parser);
		yaml_parser_delete(&parser);
		machine_config_free(c);
		return rc;
	}
	x.doc = &doc;
	root = yaml_document_get_root_node(&doc);
	if (!root) {
		rc = mcfg_error(err, errlen, x.file, 1, -EINVAL,
				"empty machine file (expected 'iommus:')");
		goto out;
	}
	/* One document per file. */
	if (!yaml_parser_load(&parser, &extra)) {
		rc = yaml_fail(&x, &parser);
		goto out;
	}
	if (yaml_document_get_root_node(&extra)) {
		rc = mcfg_error(err, errlen, x.file,
				(int)extra.start_mark.line + 1, -EINVAL,
				"a machine file holds one YAML document");
		yaml_document_delete(&extra);
		goto out;
	}
	yaml_document_delete(&extra);
	rc = parse_root(&x, root);
out:
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	if (rc) {
		machine_config_free(c);
		return rc;
	}
	*out = c;
	return 0;
}

int machine_config_load(const char *path, struct machine_config **out,
			char *err, size_t errlen)
{
	struct stat st;
	size_t got = 0;
	char *buf;
	int fd, rc;

	*out = NULL;
	if (!path)
		return -EINVAL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		return mcfg_error(err, errlen, path, 0, rc, "cannot open: %s",
				  strerror(-rc));
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) ||
	    (uint64_t)st.st_size > MCFG_MAX_FILE) {
		close(fd);
		return mcfg_error(err, errlen, path, 0, -EINVAL,
				  "not a regular file of at most %u bytes",
				  MCFG_MAX_FILE);
	}
	buf = xmalloc((size_t)st.st_size + 1);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	while (got < (size_t)st.st_size) {
		ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	rc = machine_config_parse(path, buf, got, out, err, errlen);
	xfree(buf);
	return rc;
}

void machine_config_free(struct machine_config *c)
{
	if (!c)
		return;
	mcfg_scenario_free(c->scenario);
	xfree(c->iommus);
	xfree(c->devices);
	xfree(c->file);
	xfree(c);
}

/* ---- For the file's other parsers (machine/config_yaml.h) ---- */

int mcfg_y_line(const yaml_node_t *n)
{
	return line_of(n);
}

int mcfg_y_fail(struct mcfg_yctx *x, const yaml_node_t *n, const char *path,
		const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return fail(x, n, path, "%s", msg);
}

const char *mcfg_y_scalar(const yaml_node_t *n)
{
	return scalar(n);
}

bool mcfg_y_null(const yaml_node_t *n)
{
	return is_null(n);
}

int mcfg_y_uint(struct mcfg_yctx *x, const yaml_node_t *n, const char *path,
		uint64_t min, uint64_t max, uint64_t *out)
{
	return get_uint(x, n, path, min, max, out);
}

int mcfg_y_name(struct mcfg_yctx *x, const yaml_node_t *n, const char *path,
		char *out, size_t max)
{
	return get_name(x, n, path, out, max);
}

int mcfg_y_keys(struct mcfg_yctx *x, const yaml_node_t *n, const char *path,
		struct mcfg_ykey *keys)
{
	return get_keys(x, n, path, keys);
}

int mcfg_y_seq(struct mcfg_yctx *x, const yaml_node_t *n, const char *path,
	       unsigned *count)
{
	return get_seq(x, n, path, count);
}

yaml_node_t *mcfg_y_item(struct mcfg_yctx *x, const yaml_node_t *n, unsigned i)
{
	return seq_item(x, n, i);
}
