/*
 * h5get - print what an HDF5 file holds, for tests.
 *
 * usage: h5get FILE DSET      every value of dataset DSET (a path), one per line,
 *                             row-major: floats as %.17g (nan, inf, -inf),
 *                             integers as integers, strings raw
 *        h5get -s FILE DSET   the shape, like [2, 3, 4] ([] for a scalar), then
 *                             the type: float32, float64, int8 .. int64,
 *                             uint8 .. uint64, string or other
 *        h5get -a FILE ATTR   root attribute ATTR: strings raw, integers as
 *                             integers, floats as %.17g (one element a line)
 *        h5get -l FILE        every dataset path, sorted, without a leading '/'
 *
 * Errors: "h5get: error: ..." and exit 1; bad usage exits 2.
 */
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hdf5.h>

#define MAX_ELEMS ((hsize_t)1 << 28)

static _Noreturn void die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void die(const char *fmt, ...)
{
	va_list ap;
	fputs("h5get: error: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static void usage(void)
{
	fputs("usage: h5get FILE DSET | h5get -s FILE DSET | h5get -a FILE ATTR | h5get -l FILE\n",
	      stderr);
	exit(2);
}

static void print_double(double v)
{
	if (isnan(v))
		puts("nan");
	else if (isinf(v))
		puts(v > 0 ? "inf" : "-inf");
	else
		printf("%.17g\n", v);
}

/* Reads a whole dataset or attribute into buf as memory type mtype. */
typedef herr_t (*reader)(hid_t obj, hid_t mtype, void *buf);

static herr_t read_dset(hid_t obj, hid_t mtype, void *buf)
{
	return H5Dread(obj, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf);
}

static herr_t read_attr(hid_t obj, hid_t mtype, void *buf)
{
	return H5Aread(obj, mtype, buf);
}

/* Print every element of obj (of type `type`, shape `space`), one a line. */
static void print_values(hid_t obj, hid_t type, hid_t space, reader rd, const char *what)
{
	hssize_t np = H5Sget_simple_extent_npoints(space);
	H5T_class_t cls = H5Tget_class(type);
	size_t n, size = H5Tget_size(type);

	if (np < 0)
		die("cannot read the shape of %s", what);
	if ((hsize_t)np > MAX_ELEMS)
		die("%s is too large to print (%lld elements)", what, (long long)np);
	n = (size_t)np;
	if (cls == H5T_STRING && H5Tis_variable_str(type) > 0) {
		hid_t mt = H5Tcopy(H5T_C_S1);
		char **s = calloc(n ? n : 1, sizeof *s);
		H5Tset_size(mt, H5T_VARIABLE);
		if (!s || rd(obj, mt, s) < 0)
			die("cannot read %s", what);
		for (size_t i = 0; i < n; i++)
			puts(s[i] ? s[i] : "");
		H5Dvlen_reclaim(mt, space, H5P_DEFAULT, s);
		H5Tclose(mt);
		free(s);
	} else if (cls == H5T_STRING) {
		hid_t mt = H5Tcopy(type);
		char *s = calloc(n ? n : 1, size);
		if (!s || rd(obj, mt, s) < 0)
			die("cannot read %s", what);
		for (size_t i = 0; i < n; i++) {
			const char *e = memchr(s + i * size, '\0', size);
			printf("%.*s\n", (int)(e ? (size_t)(e - (s + i * size)) : size), s + i * size);
		}
		H5Tclose(mt);
		free(s);
	} else if (cls == H5T_FLOAT) {
		double *d = malloc((n ? n : 1) * sizeof *d);
		if (!d || rd(obj, H5T_NATIVE_DOUBLE, d) < 0)
			die("cannot read %s", what);
		for (size_t i = 0; i < n; i++)
			print_double(d[i]);
		free(d);
	} else if (cls == H5T_INTEGER && H5Tget_sign(type) == H5T_SGN_NONE && size == 8) {
		uint64_t *u = malloc((n ? n : 1) * sizeof *u);
		if (!u || rd(obj, H5T_NATIVE_UINT64, u) < 0)
			die("cannot read %s", what);
		for (size_t i = 0; i < n; i++)
			printf("%llu\n", (unsigned long long)u[i]);
		free(u);
	} else if (cls == H5T_INTEGER) {
		int64_t *v = malloc((n ? n : 1) * sizeof *v);
		if (!v || rd(obj, H5T_NATIVE_INT64, v) < 0)
			die("cannot read %s", what);
		for (size_t i = 0; i < n; i++)
			printf("%lld\n", (long long)v[i]);
		free(v);
	} else {
		die("%s has an unsupported type", what);
	}
}

static void print_shape(hid_t type, hid_t space)
{
	hsize_t dims[H5S_MAX_RANK];
	int rank = H5Sget_simple_extent_dims(space, dims, NULL);
	H5T_class_t cls = H5Tget_class(type);
	size_t bits = 8 * H5Tget_size(type);

	if (rank < 0)
		die("cannot read the shape");
	putchar('[');
	for (int i = 0; i < rank; i++)
		printf("%s%llu", i ? ", " : "", (unsigned long long)dims[i]);
	puts("]");
	if (cls == H5T_FLOAT && (bits == 32 || bits == 64))
		printf("float%zu\n", bits);
	else if (cls == H5T_INTEGER && bits <= 64)
		printf("%s%zu\n", H5Tget_sign(type) == H5T_SGN_NONE ? "uint" : "int", bits);
	else if (cls == H5T_STRING)
		puts("string");
	else
		puts("other");
}

struct names {
	char **v;
	size_t n, cap;
};

static herr_t visit(hid_t obj, const char *name, const H5O_info_t *info, void *data)
{
	struct names *l = data;
	(void)obj;
	if (info->type != H5O_TYPE_DATASET)
		return 0;
	if (l->n == l->cap && !(l->v = realloc(l->v, (l->cap = l->cap ? 2 * l->cap : 64) * sizeof *l->v)))
		die("out of memory");
	if (!(l->v[l->n++] = strdup(name)))
		die("out of memory");
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
	int mode = 0, nargs;
	if (argc > 1 && argv[1][0] == '-' && argv[1][1] && !argv[1][2] && strchr("sal", argv[1][1])) {
		mode = argv[1][1];
		argv++, argc--;
	}
	nargs = argc - 1;
	if (nargs != (mode == 'l' ? 1 : 2) || argv[1][0] == '-')
		usage();
	const char *path = argv[1], *name = argv[2];

	H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
	hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
	if (f < 0)
		die("cannot open '%s' as HDF5", path);

	if (mode == 'l') {
		struct names l = {0};
		if (H5Ovisit2(f, H5_INDEX_NAME, H5_ITER_INC, visit, &l, H5O_INFO_BASIC) < 0)
			die("cannot list '%s'", path);
		qsort(l.v, l.n, sizeof *l.v, cmp_str);
		for (size_t i = 0; i < l.n; i++) {
			puts(l.v[i]);
			free(l.v[i]);
		}
		free(l.v);
	} else if (mode == 'a') {
		char what[300];
		snprintf(what, sizeof what, "attribute '%s'", name);
		hid_t a = H5Aopen_by_name(f, "/", name, H5P_DEFAULT, H5P_DEFAULT);
		if (a < 0)
			die("'%s' has no root attribute '%s'", path, name);
		hid_t t = H5Aget_type(a), s = H5Aget_space(a);
		print_values(a, t, s, read_attr, what);
		H5Sclose(s);
		H5Tclose(t);
		H5Aclose(a);
	} else {
		char what[300];
		snprintf(what, sizeof what, "dataset '%s'", name);
		hid_t d = H5Dopen2(f, name, H5P_DEFAULT);
		if (d < 0)
			die("'%s' has no dataset '%s'", path, name);
		hid_t t = H5Dget_type(d), s = H5Dget_space(d);
		if (mode == 's')
			print_shape(t, s);
		else
			print_values(d, t, s, read_dset, what);
		H5Sclose(s);
		H5Tclose(t);
		H5Dclose(d);
	}
	H5Fclose(f);
	if (fflush(stdout) != 0 || ferror(stdout))
		die("cannot write to standard output");
	return 0;
}
