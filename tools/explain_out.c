// SPDX-License-Identifier: MIT
/* `ionest explain` output as text or JSON (explain_out.h). */
#include <inttypes.h>
#include <string.h>
#include <ionest/ionest.h>

#include "explain_out.h"
#include "json.h"
#include "term.h"

#define NAME_COL 20

static unsigned long long ull(uint64_t v)
{
	return (unsigned long long)v;
}

const char *explain_status_name(const struct hw_explain *x)
{
	static const char *const names[] = {
		[IONEST_XLATE_OK] = "ok",
		[IONEST_XLATE_FAULT] = "fault",
		[IONEST_XLATE_PAGE_REQUEST] = "page_request",
		[IONEST_XLATE_BYPASS] = "bypass",
		[IONEST_XLATE_STALLED] = "stalled",
		[IONEST_XLATE_INTERRUPT] = "interrupt",
	};

	if (x->ret)
		return "einval";
	if (x->res.status < sizeof(names) / sizeof(names[0]) &&
	    names[x->res.status])
		return names[x->res.status];
	return "unknown";
}

static void access_text(char *buf, size_t len, uint32_t a)
{
	snprintf(buf, len, "%s%s%s%s",
		 (a & IONEST_ACCESS_WRITE) ? "write" :
		 (a & IONEST_ACCESS_EXEC)  ? "instruction fetch" :
					     "read",
		 (a & IONEST_ACCESS_WRITE) && (a & IONEST_ACCESS_READ) ?
			 " (read-write)" :
			 "",
		 (a & IONEST_ACCESS_EXEC) && (a & IONEST_ACCESS_WRITE) ?
			 " with execute" :
			 "",
		 (a & IONEST_ACCESS_PRIV) ? ", privileged" : "");
}

static void perm_text(char *buf, size_t len, uint32_t p)
{
	snprintf(buf, len, "%s%s%s%s", (p & IONEST_ACCESS_READ) ? "R" : "",
		 (p & IONEST_ACCESS_WRITE) ? "W" : "",
		 (p & IONEST_ACCESS_EXEC) ? "X" : "",
		 (p & IONEST_ACCESS_PRIV) ? "P" : "");
	if (!buf[0])
		snprintf(buf, len, "none");
}

/* ---- text ---- */

static void header(FILE *f, const struct explain_who *who,
		   const struct hw_explain *x)
{
	const struct ionest_xlate_req *r = &x->req;
	char acc[64];

	access_text(acc, sizeof(acc), r->access);
	fprintf(f, "%s of IOVA 0x%llx by %s%s%s (RID %02x:%02x.%x", acc,
		ull(r->iova), term_sgr(f, TERM_BOLD), who->device,
		term_sgr(f, TERM_RESET), (r->sid >> 8) & 0xff,
		(r->sid >> 3) & 0x1f, r->sid & 7);
	if (r->ssid_valid)
		fprintf(f, ", PASID %u", r->ssid);
	fprintf(f, "%s) through %s (%s)%s\n", r->ats ? ", ATS request" : "",
		who->iommu, x->model, who->warm ? ", after one access" : "");
}

static void step_line(FILE *f, unsigned n, const struct hw_xstep *s)
{
	unsigned indent = s->depth * 2, pad;
	enum term_color c = s->kind == HW_XS_CHECK ? TERM_RED : TERM_BOLD;

	pad = indent + strlen(s->name) < NAME_COL ?
		      NAME_COL - indent - (unsigned)strlen(s->name) :
		      1;
	fprintf(f, "%s%3u%c %*s%s%s%s%*s",
		s->skipped ? term_sgr(f, TERM_DIM) : "", n,
		s->skipped ? '~' : ' ', (int)indent, "", term_sgr(f, c),
		s->name, term_sgr(f, TERM_RESET), (int)pad, "");
	if (s->skipped)
		fputs(term_sgr(f, TERM_DIM), f);
	if (s->kind == HW_XS_CACHE)
		fprintf(f, "%s%s%s ",
			term_sgr(f, s->hit ? TERM_GREEN : TERM_YELLOW),
			s->hit ? "hit " : "miss", term_sgr(f, TERM_RESET));
	if (s->skipped)
		fputs(term_sgr(f, TERM_DIM), f);
	if (s->has_addr) {
		fprintf(f, "@0x%llx", ull(s->addr));
		if (s->has_host)
			fprintf(f, " (host 0x%llx)", ull(s->host));
	} else if (s->has_host) {
		fprintf(f, "@host 0x%llx", ull(s->host));
	}
	if (s->nwords && s->kind != HW_XS_UPDATE) {
		fputs(" =", f);
		for (unsigned i = 0; i < s->nwords; i++)
			fprintf(f, " 0x%llx", ull(s->w[i]));
	}
	/* Long decodings (configuration structures) on a line of their
	 * own, the rest on the step's line. */
	if (s->text[0]) {
		if (s->kind == HW_XS_CONFIG && s->nwords > 1)
			fprintf(f, "\n%*s%s", NAME_COL + 5, "", s->text);
		else
			fprintf(f, "%s%s",
				s->has_addr || s->has_host ? "  " : "",
				s->text);
	}
	fprintf(f, "%s\n", s->skipped ? term_sgr(f, TERM_RESET) : "");
}

void explain_print_text(FILE *f, const struct explain_who *who,
			const struct hw_explain *x)
{
	bool skipped = false;
	char p[16];

	header(f, who, x);
	for (unsigned i = 0; i < x->nsteps; i++) {
		step_line(f, i + 1, &x->steps[i]);
		skipped |= x->steps[i].skipped;
	}
	if (skipped)
		fprintf(f, "    (~ not done by this access: a cache serves it; "
			   "derived from memory for the reader)\n");
	fprintf(f, "%sresult:%s ", term_sgr(f, TERM_BOLD),
		term_sgr(f, TERM_RESET));
	if (x->ret) {
		fprintf(f, "%s\n", x->summary);
		return;
	}
	switch (x->res.status) {
	case IONEST_XLATE_OK:
	case IONEST_XLATE_BYPASS:
	case IONEST_XLATE_INTERRUPT:
		term_fputs(f, TERM_GREEN, x->summary);
		break;
	default:
		term_fputs(f, TERM_RED, x->summary);
		break;
	}
	fputc('\n', f);
	if (x->res.status == IONEST_XLATE_OK ||
	    x->res.status == IONEST_XLATE_BYPASS) {
		perm_text(p, sizeof(p), x->res.perm);
		fprintf(f,
			"        output 0x%llx, block of %llu bytes, "
			"permissions %s\n",
			ull(x->res.addr), ull(x->res.size), p);
	} else if (x->fault_name || x->res.status == IONEST_XLATE_FAULT) {
		fprintf(f, "        code 0x%02x %s, stage %u", x->res.fault,
			x->fault_name ? x->fault_name : "(none)",
			x->res.stage2 ? 2 : 1);
		if (x->fault_level >= 0)
			fprintf(f, ", level %d", x->fault_level);
		fprintf(f, ", address 0x%llx, %s\n", ull(x->res.fault_addr),
			x->would_record ? "recorded" : "not recorded");
	}
	if (x->stale)
		fprintf(f,
			"        %sstale:%s a cache answers differently "
			"from the tables in memory (an invalidation is "
			"missing)\n",
			term_sgr(f, TERM_YELLOW), term_sgr(f, TERM_RESET));
}

/* ---- JSON ---- */

/* A string (NULL as ""). */
static void jstr(FILE *f, const char *s)
{
	json_put_str(f, s ? s : "");
}

static void jhex(FILE *f, const char *key, uint64_t v)
{
	fprintf(f, ",\"%s\":\"0x%llx\"", key, ull(v));
}

static void json_step(FILE *f, unsigned n, const struct hw_xstep *s)
{
	fprintf(f, "%s{\"n\":%u,\"kind\":\"%s\",\"name\":", n > 1 ? "," : "", n,
		hw_xs_kind_name((enum hw_xs_kind)s->kind));
	jstr(f, s->name);
	fprintf(f, ",\"depth\":%u,\"skipped\":%s", s->depth,
		s->skipped ? "true" : "false");
	if (s->hit >= 0)
		fprintf(f, ",\"hit\":%s", s->hit ? "true" : "false");
	if (s->level >= 0)
		fprintf(f, ",\"level\":%d", s->level);
	if (s->has_in)
		jhex(f, "in", s->in);
	if (s->has_addr)
		jhex(f, "addr", s->addr);
	if (s->has_host)
		jhex(f, "host", s->host);
	fprintf(f, ",\"words\":[");
	for (unsigned i = 0; i < s->nwords; i++)
		fprintf(f, "%s\"0x%llx\"", i ? "," : "", ull(s->w[i]));
	fprintf(f, "],\"text\":");
	jstr(f, s->text);
	fputc('}', f);
}

void explain_print_json(FILE *f, const struct explain_who *who,
			const struct hw_explain *x)
{
	const struct ionest_xlate_req *r = &x->req;
	char p[16];

	fprintf(f, "{\"access\":{\"source\":");
	jstr(f, who->source);
	fprintf(f, ",\"device\":");
	jstr(f, who->device);
	fprintf(f, ",\"iommu\":");
	jstr(f, who->iommu);
	fprintf(f, ",\"model\":");
	jstr(f, x->model);
	fprintf(f, ",\"rid\":%u", r->sid);
	if (r->ssid_valid)
		fprintf(f, ",\"pasid\":%u", r->ssid);
	else
		fprintf(f, ",\"pasid\":null");
	jhex(f, "iova", r->iova);
	fprintf(f,
		",\"read\":%s,\"write\":%s,\"exec\":%s,\"priv\":%s,"
		"\"ats\":%s,\"warm\":%s},\"steps\":[",
		(r->access & IONEST_ACCESS_READ) ? "true" : "false",
		(r->access & IONEST_ACCESS_WRITE) ? "true" : "false",
		(r->access & IONEST_ACCESS_EXEC) ? "true" : "false",
		(r->access & IONEST_ACCESS_PRIV) ? "true" : "false",
		r->ats ? "true" : "false", who->warm ? "true" : "false");
	for (unsigned i = 0; i < x->nsteps; i++)
		json_step(f, i + 1, &x->steps[i]);
	fprintf(f, "],\"result\":{\"status\":\"%s\",\"summary\":",
		explain_status_name(x));
	jstr(f, x->summary);
	if (!x->ret && x->res.status != IONEST_XLATE_FAULT &&
	    x->res.status != IONEST_XLATE_PAGE_REQUEST &&
	    x->res.status != IONEST_XLATE_STALLED) {
		perm_text(p, sizeof(p), x->res.perm);
		jhex(f, "addr", x->res.addr);
		fprintf(f, ",\"size\":%llu,\"perm\":\"%s\"", ull(x->res.size),
			p);
	}
	if (!x->ret && (x->res.status == IONEST_XLATE_FAULT ||
			x->res.status == IONEST_XLATE_PAGE_REQUEST ||
			x->res.status == IONEST_XLATE_STALLED)) {
		fprintf(f, ",\"fault\":{\"code\":%u,\"name\":", x->res.fault);
		if (x->fault_name)
			jstr(f, x->fault_name);
		else
			fputs("null", f);
		fprintf(f, ",\"stage\":%u", x->res.stage2 ? 2 : 1);
		if (x->fault_level >= 0)
			fprintf(f, ",\"level\":%d", x->fault_level);
		else
			fputs(",\"level\":null", f);
		jhex(f, "addr", x->res.fault_addr);
		fprintf(f, ",\"recorded\":%s}",
			x->would_record ? "true" : "false");
	}
	fprintf(f, ",\"stale\":%s}}\n", x->stale ? "true" : "false");
}
