// SPDX-License-Identifier: MIT
/* tools/json.c: the reader against RFC 8259's grammar (what it accepts,
 * what it refuses and where it says the error is), the lookups and the
 * writer. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "test_util.h"
#include "../../tools/json.h"

static struct json *parse_ok(const char *text)
{
	struct json *v = NULL;
	char err[128];

	if (json_parse(text, &v, err, sizeof(err)))
		print_error("'%s': %s\n", text, err);
	assert_non_null(v);
	return v;
}

static void parse_bad(const char *text, const char *want)
{
	struct json *v = (struct json *)1;
	char err[128];

	assert_int_equal(json_parse(text, &v, err, sizeof(err)), -EINVAL);
	assert_null(v);
	if (strcmp(err, want))
		print_error("'%s': got '%s', want '%s'\n", text, err, want);
	assert_string_equal(err, want);
}

static void test_scalars(void **state)
{
	static const struct {
		const char *text;
		double want;
	} nums[] = {
		{ "0", 0 },	    { "-0", 0 },	{ "12", 12 },
		{ "-3.25", -3.25 }, { "1e3", 1000 },	{ "2E-2", 0.02 },
		{ "1.5e+1", 15 },   { " 7 \n\t\r", 7 },
	};
	struct json *v;

	for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++) {
		v = parse_ok(nums[i].text);
		assert_int_equal(v->type, JSON_NUMBER);
		assert_true(v->number == nums[i].want);
		json_free(v);
	}
	v = parse_ok("true");
	assert_int_equal(v->type, JSON_BOOL);
	assert_true(v->boolean);
	json_free(v);
	v = parse_ok("false");
	assert_int_equal(v->type, JSON_BOOL);
	assert_false(v->boolean);
	json_free(v);
	v = parse_ok("null");
	assert_int_equal(v->type, JSON_NULL);
	json_free(v);
}

static void test_strings(void **state)
{
	struct json *v;

	v = parse_ok("\"plain\"");
	assert_int_equal(v->type, JSON_STRING);
	assert_string_equal(v->string, "plain");
	json_free(v);
	v = parse_ok("\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"");
	assert_string_equal(v->string, "\"\\/\b\f\n\r\t");
	json_free(v);
	/* \u escapes as UTF-8: one, two, three bytes and a surrogate
	 * pair's four. */
	v = parse_ok("\"\\u0041\\u00e9\\u20AC\\ud83d\\ude00\"");
	assert_string_equal(v->string, "A\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
	json_free(v);
	/* UTF-8 passes through as it is. */
	v = parse_ok("\"\xc3\xa9\"");
	assert_string_equal(v->string, "\xc3\xa9");
	json_free(v);
	v = parse_ok("\"\"");
	assert_string_equal(v->string, "");
	json_free(v);
}

static void test_containers(void **state)
{
	struct json *v =
		parse_ok("{\"a\": [1, \"two\", {\"x\": null}, []], \"b\": {},\n"
			 " \"n\": 2.5, \"t\": true, \"a\": \"again\"}");

	assert_int_equal(v->type, JSON_OBJECT);
	assert_int_equal(v->n, 5);
	assert_string_equal(v->keys[1], "b");
	assert_int_equal(json_get(v, "a")->type, JSON_ARRAY);
	assert_int_equal(json_get(v, "a")->n, 4);
	assert_int_equal(json_get(v, "a")->items[0].number, 1);
	assert_string_equal(json_get(v, "a")->items[1].string, "two");
	assert_int_equal(json_get(&json_get(v, "a")->items[2], "x")->type,
			 JSON_NULL);
	assert_int_equal(json_get(v, "a")->items[3].n, 0);
	assert_int_equal(json_get(v, "b")->type, JSON_OBJECT);
	assert_int_equal(json_get(v, "b")->n, 0);
	/* Typed lookups: the value, or the default when missing or of
	 * another type. */
	assert_true(json_get_num(v, "n", 0) == 2.5);
	assert_true(json_get_num(v, "t", -1) == -1);
	assert_true(json_get_num(v, "missing", -2) == -2);
	assert_true(json_get_bool(v, "t", false));
	assert_true(json_get_bool(v, "n", true));
	assert_null(json_get_str(v, "n", NULL));
	assert_string_equal(json_get_str(v, "zz", "def"), "def");
	/* Not an object: nothing to look up. */
	assert_null(json_get(json_get(v, "a"), "x"));
	assert_null(json_get(NULL, "x"));
	json_free(v);
	json_free(NULL);
}

static void test_errors(void **state)
{
	parse_bad("", "line 1, column 1: expected a value");
	parse_bad("   ", "line 1, column 4: expected a value");
	parse_bad("tru", "line 1, column 1: expected a value");
	parse_bad("nul", "line 1, column 1: expected a value");
	parse_bad("[1,]", "line 1, column 4: expected a value");
	parse_bad("[1 2]", "line 1, column 4: expected ',' or ']'");
	parse_bad("[1", "line 1, column 3: expected ',' or ']'");
	parse_bad("{\"a\" 1}", "line 1, column 6: expected ':'");
	parse_bad("{1: 2}", "line 1, column 2: expected a member name");
	parse_bad("{\"a\": 1,}", "line 1, column 9: expected a member name");
	parse_bad("{\"a\": 1", "line 1, column 8: expected ',' or '}'");
	parse_bad("01", "line 1, column 2: text after the value");
	parse_bad("1.", "line 1, column 3: expected a digit after '.'");
	parse_bad("1e", "line 1, column 3: expected a digit in the exponent");
	parse_bad("-", "line 1, column 2: expected a value");
	parse_bad("+1", "line 1, column 1: expected a value");
	parse_bad(".5", "line 1, column 1: expected a value");
	parse_bad("nan", "line 1, column 1: expected a value");
	parse_bad("inf", "line 1, column 1: expected a value");
	parse_bad("[1]\n 2", "line 2, column 2: text after the value");
	parse_bad("\"abc", "line 1, column 5: unterminated string");
	parse_bad("\"a\\", "line 1, column 4: bad escape");
	parse_bad("\"\\x\"", "line 1, column 3: bad escape");
	parse_bad("\"\\u12g4\"", "line 1, column 4: bad \\u escape");
	parse_bad("\"\\u12\"", "line 1, column 4: bad \\u escape");
	parse_bad("\"\\udc00\"", "line 1, column 8: lone low surrogate");
	parse_bad("\"\\ud800x\"",
		  "line 1, column 8: high surrogate without a low one");
	parse_bad("\"\\ud800\\u0041\"",
		  "line 1, column 8: high surrogate without a low one");
	parse_bad("\"a\nb\"", "line 1, column 3: control character in a "
			      "string");
	parse_bad("{\"a\":\n  [true,\n   fals]}",
		  "line 3, column 4: expected a value");
}

/* JSON_MAX_DEPTH levels nest; one more is refused, not recursed into. */
static void test_depth(void **state)
{
	char deep[2 * (JSON_MAX_DEPTH + 2) + 1];
	struct json *v;
	size_t n;

	for (n = 0; n < JSON_MAX_DEPTH; n++)
		deep[n] = '[';
	for (size_t i = 0; i < JSON_MAX_DEPTH; i++)
		deep[n++] = ']';
	deep[n] = '\0';
	v = parse_ok(deep);
	json_free(v);
	for (n = 0; n < JSON_MAX_DEPTH + 1; n++)
		deep[n] = '[';
	for (size_t i = 0; i < JSON_MAX_DEPTH + 1; i++)
		deep[n++] = ']';
	deep[n] = '\0';
	parse_bad(deep, "line 1, column 65: nested deeper than 64");
	/* A hostile depth costs an error, not the stack. */
	{
		size_t big = 100000;
		char *s = malloc(big + 1);

		assert_non_null(s);
		memset(s, '[', big);
		s[big] = '\0';
		assert_int_equal(json_parse(s, &v, NULL, 0), -EINVAL);
		assert_null(v);
		free(s);
	}
}

/* The error buffer: optional, and cut rather than overrun. */
static void test_error_buffer(void **state)
{
	struct json *v;
	char small[8];

	assert_int_equal(json_parse("[", &v, NULL, 0), -EINVAL);
	memset(small, 'x', sizeof(small));
	assert_int_equal(json_parse("[", &v, small, sizeof(small)), -EINVAL);
	assert_string_equal(small, "line 1,");
	small[0] = 'x';
	assert_int_equal(json_parse("1", &v, small, sizeof(small)), 0);
	assert_string_equal(small, "");
	json_free(v);
}

static void test_writer(void **state)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct json *v;

	assert_non_null(f);
	json_put_str(f, "a\"b\\c\n\x01\x7f\xc3\xa9");
	fputc(' ', f);
	json_put_num(f, 1.5, 6);
	fputc(' ', f);
	json_put_num(f, 1.0 / 3, 4);
	fputc(' ', f);
	json_put_num(f, NAN, 6);
	fputc(' ', f);
	json_put_num(f, INFINITY, 6);
	fputc(' ', f);
	json_put_num(f, -INFINITY, 6);
	assert_int_equal(fclose(f), 0);
	assert_string_equal(buf, "\"a\\\"b\\\\c\\u000a\\u0001\\u007f\xc3\xa9\" "
				 "1.5 0.3333 null null null");
	/* What it writes reads back. */
	*strchr(buf, ' ') = '\0';
	v = parse_ok(buf);
	assert_string_equal(v->string, "a\"b\\c\n\x01\x7f\xc3\xa9");
	json_free(v);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scalars),
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_containers),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_depth),
		cmocka_unit_test(test_error_buffer),
		cmocka_unit_test(test_writer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
