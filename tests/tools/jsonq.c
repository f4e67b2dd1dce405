/*
 * jsonq - check JSON Lines and pick values out of them, for tests.
 *
 * usage: jsonq [-n] FILE|- [PATH]
 *
 * Every non-empty line must be one JSON object (strict: cJSON with
 * require_null_terminated, no bare NaN or Infinity, no duplicate keys);
 * otherwise "jsonq: error: line N: ..." and exit 1. Line numbers count every
 * line, empty ones included.
 *
 *   jsonq FILE         validate only, print nothing
 *   jsonq -n FILE      validate, then print the number of objects
 *   jsonq FILE PATH    for each object, the value at PATH: dot-separated object
 *                      keys or 0-based array indices (e.g. labels.3,
 *                      samples.0.2.1.0). Numbers print as %.17g, strings raw,
 *                      true/false/null as such, arrays and objects as compact
 *                      JSON. A missing value is an error.
 *
 *   jsonq -f32         for each line of standard input, a number: the float32
 *                      it rounds to, printed as %.17g of that float (to compare
 *                      JSON Lines float32 results with h5get's output)
 *
 * Bad usage exits 2.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

static _Noreturn void die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void die(const char *fmt, ...)
{
	va_list ap;
	fputs("jsonq: error: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static _Noreturn void usage(void)
{
	fputs("usage: jsonq [-n] FILE|- [PATH]\n", stderr);
	exit(2);
}

/* Whether the bare token NaN or Infinity occurs outside strings. */
static int has_bare_nonfinite(const char *s)
{
	int in_str = 0;
	for (; *s; s++) {
		if (in_str) {
			if (*s == '\\' && s[1])
				s++;
			else if (*s == '"')
				in_str = 0;
		} else if (*s == '"') {
			in_str = 1;
		} else if (!strncmp(s, "NaN", 3) || !strncmp(s, "Infinity", 8)) {
			return 1;
		}
	}
	return 0;
}

/* The first key that occurs twice in one object below j, or NULL. */
static const char *duplicate_key(const cJSON *j)
{
	const cJSON *a, *b;
	const char *d;
	cJSON_ArrayForEach(a, j) {
		if (cJSON_IsObject(j))
			for (b = a->next; b; b = b->next)
				if (!strcmp(a->string, b->string))
					return a->string;
		if ((d = duplicate_key(a)))
			return d;
	}
	return NULL;
}

/* The value at dot-separated PATH below j, or NULL. */
static const cJSON *lookup(const cJSON *j, const char *path)
{
	const char *p = path;
	char key[4096];
	while (j && *p) {
		size_t len = strcspn(p, ".");
		if (len >= sizeof key)
			return NULL;
		memcpy(key, p, len);
		key[len] = '\0';
		p += len + (p[len] == '.');
		if (cJSON_IsObject(j)) {
			j = cJSON_GetObjectItemCaseSensitive(j, key);
		} else if (cJSON_IsArray(j)) {
			char *end;
			long i;
			if (!len || !isdigit((unsigned char)key[0]))
				return NULL;
			i = strtol(key, &end, 10);
			if (*end || i >= cJSON_GetArraySize(j))
				return NULL;
			j = cJSON_GetArrayItem(j, (int)i);
		} else {
			return NULL;
		}
	}
	return j;
}

/* Compact JSON of v with every number as %.17g (cJSON's own printer keeps
 * 15 digits where it believes they round-trip, which can lose a bit). */
static void print_json(const cJSON *v)
{
	if (cJSON_IsNumber(v)) {
		printf("%.17g", v->valuedouble);
	} else if (cJSON_IsArray(v) || cJSON_IsObject(v)) {
		int object = cJSON_IsObject(v);
		putchar(object ? '{' : '[');
		for (const cJSON *c = v->child; c; c = c->next) {
			if (object) {
				cJSON *key = cJSON_CreateString(c->string);
				char *s = key ? cJSON_PrintUnformatted(key) : NULL;
				if (!s)
					die("out of memory");
				printf("%s:", s);
				cJSON_free(s);
				cJSON_Delete(key);
			}
			print_json(c);
			if (c->next)
				putchar(',');
		}
		putchar(object ? '}' : ']');
	} else {
		char *s = cJSON_PrintUnformatted(v);
		if (!s)
			die("out of memory");
		fputs(s, stdout);
		cJSON_free(s);
	}
}

static void print_value(const cJSON *v)
{
	if (cJSON_IsString(v)) {
		puts(v->valuestring);
	} else {
		print_json(v);
		putchar('\n');
	}
}

int main(int argc, char **argv)
{
	int count = 0, i = 1;
	if (argc == 2 && !strcmp(argv[1], "-f32")) {
		char buf[256];
		while (fgets(buf, sizeof buf, stdin))
			printf("%.17g\n", (double)strtof(buf, NULL));
		return 0;
	}
	if (i < argc && !strcmp(argv[i], "-n"))
		count = 1, i++;
	if (argc - i < 1 || argc - i > 2 || (count && argc - i == 2))
		usage();
	const char *path = argv[i], *query = argv[i + 1];
	if ((path[0] == '-' && path[1]) || (query && !*query))
		usage();

	FILE *f = strcmp(path, "-") ? fopen(path, "r") : stdin;
	if (!f)
		die("cannot open '%s'", path);

	char *line = NULL;
	size_t cap = 0, lineno = 0, objects = 0;
	ssize_t len;
	while ((len = getline(&line, &cap, f)) >= 0) {
		const char *dup;
		lineno++;
		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		if (len == 0)
			continue;
		if ((size_t)len != strlen(line))
			die("line %zu: contains a NUL byte", lineno);
		cJSON *j = cJSON_ParseWithOpts(line, NULL, 1);
		if (!j || !cJSON_IsObject(j) || has_bare_nonfinite(line))
			die("line %zu: not a valid JSON object", lineno);
		if ((dup = duplicate_key(j)))
			die("line %zu: duplicate key '%s'", lineno, dup);
		objects++;
		if (query) {
			const cJSON *v = lookup(j, query);
			if (!v)
				die("line %zu: no value at %s", lineno, query);
			print_value(v);
		}
		cJSON_Delete(j);
	}
	if (ferror(f))
		die("cannot read '%s'", path);
	free(line);
	if (f != stdin)
		fclose(f);
	if (count)
		printf("%zu\n", objects);
	if (fflush(stdout) != 0 || ferror(stdout))
		die("cannot write to standard output");
	return 0;
}
