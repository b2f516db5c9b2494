// SPDX-License-Identifier: MIT
/*
 * JSON reader (recursive descent over RFC 8259's grammar, depth-bounded)
 * and string/number writer. See json.h.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

struct parser {
	const char *s, *p;
	char *err;
	size_t errlen;
	int rc;
};

static void fail(struct parser *ps, int rc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void fail(struct parser *ps, int rc, const char *fmt, ...)
{
	unsigned line = 1, col = 1;
	int n = 0;
	va_list ap;

	if (ps->rc)
		return;
	ps->rc = rc;
	if (!ps->err || !ps->errlen)
		return;
	for (const char *q = ps->s; q < ps->p; q++) {
		if (*q == '\n') {
			line++;
			col = 1;
		} else {
			col++;
		}
	}
	if (rc == -EINVAL)
		n = snprintf(ps->err, ps->errlen, "line %u, column %u: ", line,
			     col);
	if (n < 0 || (size_t)n >= ps->errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(ps->err + n, ps->errlen - (size_t)n, fmt, ap);
	va_end(ap);
}

static void skip_ws(struct parser *ps)
{
	while (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' ||
	       *ps->p == '\r')
		ps->p++;
}

static bool literal(struct parser *ps, const char *word)
{
	size_t n = strlen(word);

	if (strncmp(ps->p, word, n))
		return false;
	ps->p += n;
	return true;
}

static int hex4(const char *p, unsigned *out)
{
	unsigned v = 0;

	for (int i = 0; i < 4; i++) {
		char c = p[i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (unsigned)(c - 'A' + 10);
		else
			return -1;
	}
	*out = v;
	return 0;
}

/* @cp as UTF-8 at @o; returns the bytes written (at most 4). */
static size_t utf8(char *o, unsigned cp)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xc0 | cp >> 6);
		o[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xe0 | cp >> 12);
		o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (char)(0xf0 | cp >> 18);
	o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	o[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* A \uXXXX escape (and its low surrogate) at ps->p, just past "\u". */
static int unicode_escape(struct parser *ps, unsigned *cp)
{
	unsigned hi, lo;

	if (hex4(ps->p, &hi)) {
		fail(ps, -EINVAL, "bad \\u escape");
		return -1;
	}
	ps->p += 4;
	if (hi >= 0xdc00 && hi <= 0xdfff) {
		fail(ps, -EINVAL, "lone low surrogate");
		return -1;
	}
	if (hi < 0xd800 || hi > 0xdbff) {
		*cp = hi;
		return 0;
	}
	if (ps->p[0] != '\\' || ps->p[1] != 'u' || hex4(ps->p + 2, &lo) ||
	    lo < 0xdc00 || lo > 0xdfff) {
		fail(ps, -EINVAL, "high surrogate without a low one");
		return -1;
	}
	ps->p += 6;
	*cp = 0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00);
	return 0;
}

/* A string literal at ps->p (on its opening quote) into a new buffer. */
static char *parse_string(struct parser *ps)
{
	const char *q = ++ps->p;
	size_t cap = 1;
	char *buf, *o;

	/* Escapes never expand: the literal's length bounds the result
	 * (a 6-byte \uXXXX gives at most 3 bytes, a 12-byte pair 4). */
	while (*q && *q != '"') {
		if (*q == '\\' && q[1])
			q++, cap++;
		q++, cap++;
	}
	buf = malloc(cap);
	if (!buf) {
		fail(ps, -ENOMEM, "out of memory");
		return NULL;
	}
	o = buf;
	for (;;) {
		unsigned char c = (unsigned char)*ps->p;
		unsigned cp;

		if (c == '"') {
			ps->p++;
			*o = '\0';
			return buf;
		}
		if (!c) {
			fail(ps, -EINVAL, "unterminated string");
			break;
		}
		if (c < 0x20) {
			fail(ps, -EINVAL, "control character in a string");
			break;
		}
		if (c != '\\') {
			*o++ = (char)c;
			ps->p++;
			continue;
		}
		ps->p++;
		switch (*ps->p++) {
		case '"':
			*o++ = '"';
			break;
		case '\\':
			*o++ = '\\';
			break;
		case '/':
			*o++ = '/';
			break;
		case 'b':
			*o++ = '\b';
			break;
		case 'f':
			*o++ = '\f';
			break;
		case 'n':
			*o++ = '\n';
			break;
		case 'r':
			*o++ = '\r';
			break;
		case 't':
			*o++ = '\t';
			break;
		case 'u':
			if (unicode_escape(ps, &cp))
				goto out;
			o += utf8(o, cp);
			break;
		default:
			ps->p--;
			fail(ps, -EINVAL, "bad escape");
			goto out;
		}
	}
out:
	free(buf);
	return NULL;
}

static void skip_digits(struct parser *ps)
{
	while (*ps->p >= '0' && *ps->p <= '9')
		ps->p++;
}

/* RFC 8259 §6: -? (0 | [1-9][0-9]*) (.[0-9]+)? ([eE][+-]?[0-9]+)? */
static int parse_number(struct parser *ps, double *out)
{
	const char *start = ps->p;

	if (*ps->p == '-')
		ps->p++;
	if (*ps->p == '0') {
		ps->p++;
	} else if (*ps->p >= '1' && *ps->p <= '9') {
		skip_digits(ps);
	} else {
		fail(ps, -EINVAL, "expected a value");
		return -1;
	}
	if (*ps->p == '.') {
		ps->p++;
		if (*ps->p < '0' || *ps->p > '9') {
			fail(ps, -EINVAL, "expected a digit after '.'");
			return -1;
		}
		skip_digits(ps);
	}
	if (*ps->p == 'e' || *ps->p == 'E') {
		ps->p++;
		if (*ps->p == '+' || *ps->p == '-')
			ps->p++;
		if (*ps->p < '0' || *ps->p > '9') {
			fail(ps, -EINVAL, "expected a digit in the exponent");
			return -1;
		}
		skip_digits(ps);
	}
	*out = strtod(start, NULL);
	return 0;
}

static int parse_value(struct parser *ps, struct json *v, unsigned depth);

/* Room for one more member of @v (array or object). */
static int grow(struct parser *ps, struct json *v, size_t *cap)
{
	size_t ncap = *cap ? *cap * 2 : 4;
	struct json *items;
	char **keys;

	if (v->n < *cap)
		return 0;
	items = realloc(v->items, ncap * sizeof(*items));
	if (!items)
		goto nomem;
	v->items = items;
	if (v->type == JSON_OBJECT) {
		keys = realloc(v->keys, ncap * sizeof(*keys));
		if (!keys)
			goto nomem;
		v->keys = keys;
	}
	*cap = ncap;
	return 0;
nomem:
	fail(ps, -ENOMEM, "out of memory");
	return -1;
}

/* An array or object at ps->p (on its opening bracket). */
static int parse_container(struct parser *ps, struct json *v, unsigned depth)
{
	bool obj = *ps->p == '{';
	char close = obj ? '}' : ']';
	size_t cap = 0;

	v->type = obj ? JSON_OBJECT : JSON_ARRAY;
	ps->p++;
	skip_ws(ps);
	if (*ps->p == close) {
		ps->p++;
		return 0;
	}
	for (;;) {
		char *key = NULL;

		if (grow(ps, v, &cap))
			return -1;
		if (obj) {
			if (*ps->p != '"') {
				fail(ps, -EINVAL, "expected a member name");
				return -1;
			}
			key = parse_string(ps);
			if (!key)
				return -1;
			skip_ws(ps);
			if (*ps->p != ':') {
				free(key);
				fail(ps, -EINVAL, "expected ':'");
				return -1;
			}
			ps->p++;
			skip_ws(ps);
			v->keys[v->n] = key;
		}
		memset(&v->items[v->n], 0, sizeof(v->items[0]));
		/* Counted before parsing so json_free releases a half-built
		 * member. */
		v->n++;
		if (parse_value(ps, &v->items[v->n - 1], depth + 1))
			return -1;
		skip_ws(ps);
		if (*ps->p == close) {
			ps->p++;
			return 0;
		}
		if (*ps->p != ',') {
			fail(ps, -EINVAL, "expected ',' or '%c'", close);
			return -1;
		}
		ps->p++;
		skip_ws(ps);
	}
}

static int parse_value(struct parser *ps, struct json *v, unsigned depth)
{
	if (depth >= JSON_MAX_DEPTH) {
		fail(ps, -EINVAL, "nested deeper than %d", JSON_MAX_DEPTH);
		return -1;
	}
	switch (*ps->p) {
	case '{':
	case '[':
		return parse_container(ps, v, depth);
	case '"':
		v->type = JSON_STRING;
		v->string = parse_string(ps);
		return v->string ? 0 : -1;
	case 't':
	case 'f':
		v->type = JSON_BOOL;
		v->boolean = *ps->p == 't';
		if (literal(ps, v->boolean ? "true" : "false"))
			return 0;
		fail(ps, -EINVAL, "expected a value");
		return -1;
	case 'n':
		v->type = JSON_NULL;
		if (literal(ps, "null"))
			return 0;
		fail(ps, -EINVAL, "expected a value");
		return -1;
	default:
		v->type = JSON_NUMBER;
		return parse_number(ps, &v->number);
	}
}

static void json_fini(struct json *v)
{
	for (size_t i = 0; i < v->n; i++) {
		json_fini(&v->items[i]);
		if (v->keys)
			free(v->keys[i]);
	}
	free(v->items);
	free(v->keys);
	free(v->string);
}

void json_free(struct json *v)
{
	if (!v)
		return;
	json_fini(v);
	free(v);
}

int json_parse(const char *text, struct json **out, char *err, size_t errlen)
{
	struct parser ps = { text, text, err, errlen, 0 };
	struct json *v = calloc(1, sizeof(*v));

	*out = NULL;
	if (err && errlen)
		err[0] = '\0';
	if (!v)
		return -ENOMEM;
	skip_ws(&ps);
	if (!parse_value(&ps, v, 0)) {
		skip_ws(&ps);
		if (*ps.p)
			fail(&ps, -EINVAL, "text after the value");
	}
	if (ps.rc) {
		json_free(v);
		return ps.rc;
	}
	*out = v;
	return 0;
}

const struct json *json_get(const struct json *v, const char *key)
{
	if (!v || v->type != JSON_OBJECT)
		return NULL;
	for (size_t i = 0; i < v->n; i++) {
		if (!strcmp(v->keys[i], key))
			return &v->items[i];
	}
	return NULL;
}

const char *json_get_str(const struct json *v, const char *key, const char *def)
{
	const struct json *m = json_get(v, key);

	return m && m->type == JSON_STRING ? m->string : def;
}

double json_get_num(const struct json *v, const char *key, double def)
{
	const struct json *m = json_get(v, key);

	return m && m->type == JSON_NUMBER ? m->number : def;
}

bool json_get_bool(const struct json *v, const char *key, bool def)
{
	const struct json *m = json_get(v, key);

	return m && m->type == JSON_BOOL ? m->boolean : def;
}

void json_put_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

void json_put_num(FILE *f, double x, int prec)
{
	if (isfinite(x))
		fprintf(f, "%.*g", prec, x);
	else
		fputs("null", f);
}
