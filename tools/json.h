/* SPDX-License-Identifier: MIT */
/*
 * A small JSON (RFC 8259) reader and string writer for the ionest
 * command: `ionest bench` reads what the benchmark programs print, the
 * tests read what the command prints. The reader builds a tree; nesting
 * deeper than JSON_MAX_DEPTH is refused rather than recursed into.
 */
#ifndef IONEST_TOOLS_JSON_H
#define IONEST_TOOLS_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define JSON_MAX_DEPTH 64

enum json_type {
	JSON_NULL,
	JSON_BOOL,
	JSON_NUMBER,
	JSON_STRING,
	JSON_ARRAY,
	JSON_OBJECT,
};

struct json {
	enum json_type type;
	bool boolean;
	double number;
	char *string; /* JSON_STRING, NUL-terminated UTF-8 (may hold \0
		       * written as \u0000: then it ends there) */
	struct json *items; /* JSON_ARRAY elements, JSON_OBJECT values */
	char **keys; /* JSON_OBJECT: keys[i] names items[i] */
	size_t n;
};

/*
 * Parse @text (one value, surrounded by white space only) into *@out.
 * Returns 0, -EINVAL with "line L, column C: what" in @err, or -ENOMEM.
 */
int json_parse(const char *text, struct json **out, char *err, size_t errlen);
void json_free(struct json *v);

/* Member @key of object @v (the first if repeated), or NULL (also when @v
 * is not an object). */
const struct json *json_get(const struct json *v, const char *key);
/* Member @key as a string / number / boolean, or @def when it is missing
 * or of another type. */
const char *json_get_str(const struct json *v, const char *key,
			 const char *def);
double json_get_num(const struct json *v, const char *key, double def);
bool json_get_bool(const struct json *v, const char *key, bool def);

/* @s as a JSON string literal (quotes and escapes) on @f. */
void json_put_str(FILE *f, const char *s);
/* @x as a JSON number with printf precision @prec (%.*g), or null when
 * it is not finite (JSON has no NaN or infinity). */
void json_put_num(FILE *f, double x, int prec);

#endif
