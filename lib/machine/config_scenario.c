// SPDX-License-Identifier: MIT
/*
 * The `scenario` section of a machine file (docs/machine-files.md): host
 * domains (devices attached by RID to an IOAS with host buffers mapped)
 * and VMs (RAM at a GPA; per device and PASID a guest stage 1 with its
 * maps). Checked here: shapes, ranges, alignment, device names, PASIDs
 * against the device's capability, each (device, PASID) used once, maps
 * not overlapping. What a model cannot do is refused by the builder
 * (scenario/file.c), with the same FILE:LINE: PATH errors.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "machine/config_yaml.h"
#include "util/alloc.h"

#define K(n) MCFG_YKEY(n)
#define PAGE 4096ull
#define ADDR_LIMIT (1ull << 48) /* input and GPA space of the scenarios */
#define MAX_RAM (1ull << 30)
#define MAX_HOST_MAP (1ull << 30)

/* A field's path for messages (cut if it ever were too long). */
static void __attribute__((format(printf, 3, 4)))
subpath(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
}

/* Append one zeroed element to *arr (count *n); NULL when out of memory. */
static void *push(void **arr, unsigned *n, size_t size)
{
	char *a = xrealloc(*arr, (*n + 1) * size);

	if (!a)
		return NULL;
	*arr = a;
	memset(a + *n * size, 0, size);
	return a + (*n)++ * size;
}

/* "r", "rw", "rwx", "rp", ...: letters of r, w, x, p, each once, r among
 * them. */
static int get_perm(struct mcfg_yctx *x, const yaml_node_t *n, const char *path,
		    bool host, uint32_t *out)
{
	const char *s = mcfg_y_scalar(n);
	uint32_t p = 0;

	for (const char *c = s; c && *c; c++) {
		uint32_t b = *c == 'r' ? MCFG_PERM_R :
			     *c == 'w' ? MCFG_PERM_W :
			     *c == 'x' ? MCFG_PERM_X :
			     *c == 'p' ? MCFG_PERM_P :
					 0;

		if (!b || (p & b)) {
			p = 0;
			break;
		}
		p |= b;
	}
	if (!(p & MCFG_PERM_R) || (host && (p & ~(MCFG_PERM_R | MCFG_PERM_W))))
		return mcfg_y_fail(x, n, path, "%s",
				   host ? "expected r or rw" :
					  "expected r, w, x, p letters with r "
					  "(e.g. rw, rx, rwp)");
	*out = p;
	return 0;
}

/* A 4K-aligned address (or a size > 0 with @size) below ADDR_LIMIT. */
static int get_addr(struct mcfg_yctx *x, const yaml_node_t *n, const char *path,
		    bool size, uint64_t *out)
{
	int rc = mcfg_y_uint(x, n, path, size ? 1 : 0,
			     size ? ADDR_LIMIT : ADDR_LIMIT - 1, out);

	if (rc)
		return rc;
	if (*out & (PAGE - 1))
		return mcfg_y_fail(x, n, path, "0x%llx is not a multiple of 4K",
				   (unsigned long long)*out);
	return 0;
}

static int parse_map(struct mcfg_yctx *x, const yaml_node_t *n,
		     const char *path, bool host, struct mcfg_smap *m)
{
	struct mcfg_ykey keys[] = { K("iova"), K("gpa"), K("size"), K("perm"),
				    K(NULL) };
	char sub[160];
	int rc = mcfg_y_keys(x, n, path, keys);

	if (rc)
		return rc;
	m->line = mcfg_y_line(n);
	m->perm = MCFG_PERM_R | MCFG_PERM_W;
	for (int i = 0; i < 3; i++) {
		uint64_t *dst[3] = { &m->iova, &m->gpa, &m->size };

		if (i == 1 && host) {
			if (keys[1].node)
				return mcfg_y_fail(
					x, keys[1].knode, path,
					"'gpa' is for VM maps: a host map is "
					"backed by a buffer of its own");
			continue;
		}
		if (!keys[i].node)
			return mcfg_y_fail(x, n, path, "missing key '%s'",
					   keys[i].name);
		subpath(sub, sizeof(sub), "%s.%s", path, keys[i].name);
		rc = get_addr(x, keys[i].node, sub, i == 2, dst[i]);
		if (rc)
			return rc;
	}
	if (m->iova + m->size > ADDR_LIMIT ||
	    (!host && m->gpa + m->size > ADDR_LIMIT))
		return mcfg_y_fail(x, keys[2].node, path,
				   "the range passes 2^48");
	if (host && m->size > MAX_HOST_MAP)
		return mcfg_y_fail(x, keys[2].node, path,
				   "a host map is at most 1 GiB");
	if (keys[3].node) {
		subpath(sub, sizeof(sub), "%s.perm", path);
		rc = get_perm(x, keys[3].node, sub, host, &m->perm);
		if (rc)
			return rc;
	}
	return 0;
}

/* The maps of a domain or a VM device; no two overlap. */
static int parse_maps(struct mcfg_yctx *x, const yaml_node_t *n,
		      const char *path, bool host, unsigned *map0,
		      unsigned *nmap)
{
	struct mcfg_scenario *s = x->c->scenario;
	char sub[160];
	unsigned cnt;
	int rc = mcfg_y_seq(x, n, path, &cnt);

	if (rc)
		return rc;
	*map0 = s->nmap;
	*nmap = 0;
	for (unsigned i = 0; i < cnt; i++) {
		yaml_node_t *item = mcfg_y_item(x, n, i);
		struct mcfg_smap *m =
			push((void **)&s->map, &s->nmap, sizeof(*m));

		if (!m)
			return -ENOMEM;
		subpath(sub, sizeof(sub), "%s[%u]", path, i);
		rc = parse_map(x, item, sub, host, m);
		if (rc)
			return rc;
		for (unsigned j = 0; j < i; j++) {
			const struct mcfg_smap *o = &s->map[*map0 + j];

			if (m->iova < o->iova + o->size &&
			    o->iova < m->iova + m->size)
				return mcfg_y_fail(x, item, sub,
						   "overlaps %s[%u]", path, j);
		}
		(*nmap)++;
	}
	return 0;
}

static int find_device(struct mcfg_yctx *x, const yaml_node_t *n,
		       const char *path, unsigned *out)
{
	const char *s = mcfg_y_scalar(n);
	const struct mcfg_device *d = machine_config_device(x->c, s);

	if (!d)
		return mcfg_y_fail(x, n, path,
				   "no device '%s' (a device name or vfioN)",
				   s ? s : "?");
	*out = (unsigned)(d - x->c->devices);
	return 0;
}

/* (device, PASID) once in the whole scenario. */
static int add_dev(struct mcfg_yctx *x, const yaml_node_t *n, const char *path,
		   unsigned device, uint32_t pasid, struct mcfg_sdev **out)
{
	struct mcfg_scenario *s = x->c->scenario;
	struct mcfg_sdev *d;

	for (unsigned i = 0; i < s->ndev; i++) {
		if (s->dev[i].device != device || s->dev[i].pasid != pasid)
			continue;
		if (pasid == IONEST_NO_PASID)
			return mcfg_y_fail(
				x, n, path,
				"the RID of '%s' is already in a domain "
				"(line %d)",
				x->c->devices[device].name, s->dev[i].line);
		return mcfg_y_fail(x, n, path,
				   "PASID %u of '%s' is already in a domain "
				   "(line %d)",
				   pasid, x->c->devices[device].name,
				   s->dev[i].line);
	}
	d = push((void **)&s->dev, &s->ndev, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->device = device;
	d->pasid = pasid;
	d->line = mcfg_y_line(n);
	*out = d;
	return 0;
}

static int parse_host(struct mcfg_yctx *x, const yaml_node_t *n, unsigned idx)
{
	struct mcfg_scenario *s = x->c->scenario;
	struct mcfg_ykey keys[] = { K("name"), K("devices"), K("map"),
				    K(NULL) };
	struct mcfg_sdomain *dom;
	char path[64], sub[96];
	unsigned cnt;
	int rc;

	subpath(path, sizeof(path), "scenario.host[%u]", idx);
	rc = mcfg_y_keys(x, n, path, keys);
	if (rc)
		return rc;
	dom = push((void **)&s->dom, &s->ndom, sizeof(*dom));
	if (!dom)
		return -ENOMEM;
	dom->line = mcfg_y_line(n);
	snprintf(dom->name, sizeof(dom->name), "host%u", idx);
	if (keys[0].node) {
		subpath(sub, sizeof(sub), "%s.name", path);
		rc = mcfg_y_name(x, keys[0].node, sub, dom->name,
				 sizeof(dom->name));
		if (rc)
			return rc;
	}
	for (unsigned i = 0; i + 1 < s->ndom; i++) {
		if (!strcmp(s->dom[i].name, dom->name))
			return mcfg_y_fail(x, keys[0].node ? keys[0].node : n,
					   path,
					   "'%s' is already a domain's name",
					   dom->name);
	}
	if (!keys[1].node)
		return mcfg_y_fail(x, n, path, "missing key 'devices'");
	subpath(sub, sizeof(sub), "%s.devices", path);
	rc = mcfg_y_seq(x, keys[1].node, sub, &cnt);
	if (rc)
		return rc;
	if (!cnt)
		return mcfg_y_fail(x, keys[1].node, sub,
				   "a host domain needs a device");
	dom->dev0 = s->ndev;
	for (unsigned i = 0; i < cnt; i++) {
		yaml_node_t *item = mcfg_y_item(x, keys[1].node, i);
		struct mcfg_sdev *d;
		unsigned device = 0;

		subpath(sub, sizeof(sub), "%s.devices[%u]", path, i);
		rc = find_device(x, item, sub, &device);
		if (rc)
			return rc;
		rc = add_dev(x, item, sub, device, IONEST_NO_PASID, &d);
		if (rc)
			return rc;
		dom->ndev++;
	}
	if (keys[2].node) {
		subpath(sub, sizeof(sub), "%s.map", path);
		rc = parse_maps(x, keys[2].node, sub, true, &dom->map0,
				&dom->nmap);
		if (rc)
			return rc;
	}
	return 0;
}

static int parse_vm_dev(struct mcfg_yctx *x, const yaml_node_t *n,
			const char *path, unsigned vm)
{
	struct mcfg_scenario *s = x->c->scenario;
	struct mcfg_ykey keys[] = { K("device"), K("pasid"), K("map"),
				    K(NULL) };
	const struct mcfg_device *md;
	uint32_t pasid = IONEST_NO_PASID;
	struct mcfg_sdev *d;
	char sub[128];
	unsigned device = 0, map0 = 0, nmap = 0;
	uint64_t v;
	int rc;

	rc = mcfg_y_keys(x, n, path, keys);
	if (rc)
		return rc;
	if (!keys[0].node)
		return mcfg_y_fail(x, n, path, "missing key 'device'");
	subpath(sub, sizeof(sub), "%s.device", path);
	rc = find_device(x, keys[0].node, sub, &device);
	if (rc)
		return rc;
	md = &x->c->devices[device];
	if (keys[1].node) {
		subpath(sub, sizeof(sub), "%s.pasid", path);
		if (!md->pasid_bits)
			return mcfg_y_fail(x, keys[1].node, sub,
					   "device '%s' has no PASID "
					   "capability",
					   md->name);
		rc = mcfg_y_uint(x, keys[1].node, sub, 0,
				 (1ull << md->pasid_bits) - 1, &v);
		if (rc)
			return rc;
		pasid = (uint32_t)v;
	}
	if (keys[2].node) {
		subpath(sub, sizeof(sub), "%s.map", path);
		rc = parse_maps(x, keys[2].node, sub, false, &map0, &nmap);
		if (rc)
			return rc;
	}
	rc = add_dev(x, n, path, device, pasid, &d);
	if (rc)
		return rc;
	d->map0 = map0;
	d->nmap = nmap;
	s->dom[vm].ndev++;
	return 0;
}

static int parse_vm(struct mcfg_yctx *x, const yaml_node_t *n, unsigned idx)
{
	struct mcfg_scenario *s = x->c->scenario;
	struct mcfg_ykey keys[] = { K("name"), K("ram"), K("gpa"), K("devices"),
				    K(NULL) };
	struct mcfg_sdomain *dom;
	char path[64], sub[128];
	unsigned cnt, vm;
	int rc;

	subpath(path, sizeof(path), "scenario.vms[%u]", idx);
	rc = mcfg_y_keys(x, n, path, keys);
	if (rc)
		return rc;
	dom = push((void **)&s->dom, &s->ndom, sizeof(*dom));
	if (!dom)
		return -ENOMEM;
	vm = s->ndom - 1;
	dom->vm = true;
	dom->line = mcfg_y_line(n);
	if (!keys[0].node)
		return mcfg_y_fail(x, n, path, "missing key 'name'");
	subpath(sub, sizeof(sub), "%s.name", path);
	rc = mcfg_y_name(x, keys[0].node, sub, dom->name, sizeof(dom->name));
	if (rc)
		return rc;
	for (unsigned i = 0; i < vm; i++) {
		if (!strcmp(s->dom[i].name, dom->name))
			return mcfg_y_fail(x, keys[0].node, sub,
					   "'%s' is already a domain's name",
					   dom->name);
	}
	if (!keys[1].node)
		return mcfg_y_fail(x, n, path, "missing key 'ram'");
	subpath(sub, sizeof(sub), "%s.ram", path);
	rc = get_addr(x, keys[1].node, sub, true, &dom->ram);
	if (rc)
		return rc;
	if (dom->ram > MAX_RAM)
		return mcfg_y_fail(x, keys[1].node, sub,
				   "at most 1 GiB of RAM");
	if (keys[2].node) {
		subpath(sub, sizeof(sub), "%s.gpa", path);
		rc = get_addr(x, keys[2].node, sub, false, &dom->gpa);
		if (rc)
			return rc;
		if (dom->gpa + dom->ram > ADDR_LIMIT)
			return mcfg_y_fail(x, keys[2].node, sub,
					   "the RAM passes 2^48");
	}
	if (!keys[3].node)
		return mcfg_y_fail(x, n, path, "missing key 'devices'");
	subpath(sub, sizeof(sub), "%s.devices", path);
	rc = mcfg_y_seq(x, keys[3].node, sub, &cnt);
	if (rc)
		return rc;
	s->dom[vm].dev0 = s->ndev;
	for (unsigned i = 0; i < cnt; i++) {
		subpath(sub, sizeof(sub), "%s.devices[%u]", path, i);
		rc = parse_vm_dev(x, mcfg_y_item(x, keys[3].node, i), sub, vm);
		if (rc)
			return rc;
	}
	return 0;
}

int mcfg_scenario_parse(struct mcfg_yctx *x, const yaml_node_t *n)
{
	struct mcfg_ykey keys[] = { K("host"), K("vms"), K(NULL) };
	struct mcfg_scenario *s;
	unsigned cnt;
	int rc;

	rc = mcfg_y_keys(x, n, "scenario", keys);
	if (rc)
		return rc;
	s = xzalloc(sizeof(*s));
	if (!s)
		return -ENOMEM;
	x->c->scenario = s;
	s->line = mcfg_y_line(n);
	/* Host domains first, then VMs: a domain's devices are contiguous
	 * in s->dev because each domain is parsed whole. */
	if (keys[0].node && !mcfg_y_null(keys[0].node)) {
		rc = mcfg_y_seq(x, keys[0].node, "scenario.host", &cnt);
		for (unsigned i = 0; !rc && i < cnt; i++)
			rc = parse_host(x, mcfg_y_item(x, keys[0].node, i), i);
		if (rc)
			return rc;
	}
	if (keys[1].node && !mcfg_y_null(keys[1].node)) {
		rc = mcfg_y_seq(x, keys[1].node, "scenario.vms", &cnt);
		for (unsigned i = 0; !rc && i < cnt; i++)
			rc = parse_vm(x, mcfg_y_item(x, keys[1].node, i), i);
		if (rc)
			return rc;
	}
	return 0;
}

void mcfg_scenario_free(struct mcfg_scenario *s)
{
	if (!s)
		return;
	xfree(s->dom);
	xfree(s->dev);
	xfree(s->map);
	xfree(s);
}
