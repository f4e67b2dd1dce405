/*
 * h5mk - build an HDF5 file from a readable text description (test fixtures).
 *
 * usage: h5mk IN.txt OUT.h5        (IN may be '-' for standard input)
 *
 * One statement per line; blank lines and lines starting with '#' are ignored.
 *
 *   userblock N                  (first statement only) N bytes of user block
 *                                before the HDF5 data, as h5py's userblock_size
 *   group NAME                   create group NAME (a/b makes a first) and make it
 *                                current; 'group /' goes back to the root
 *   attr NAME string VALUE...    string attribute on the current group (the rest
 *                                of the line, trimmed)
 *   attr NAME int VALUE          int64 scalar attribute
 *   attr NAME float VALUE        float64 scalar attribute
 *   attr NAME bool true|false    a numpy bool as h5py writes it: an enum over
 *                                int8 with FALSE = 0 and TRUE = 1
 *   dataset NAME TYPE [d0, ...] [OPTIONS...] VALUES
 *
 * TYPE: float32 float64 int8 int16 int32 int64 uint8 float32be float64be int32be
 * int64be string bool (0/1 as h5py writes numpy bools: an enum over int8). Shape [] is a scalar; a dim may be written 2^40.
 * OPTIONS: chunk=[c0, ...]   chunked layout
 *          gzip              chunked (whole shape unless chunk=) + deflate level 4
 *          compact           compact layout
 * VALUES:  = v v v ...       row-major values, continued on following lines whose
 *                            first word is not attr/group/dataset; nan, inf, -inf
 *          random SEED [LO HI]   uniform in [LO, HI) (default -2 2) from splitmix64:
 *                            LO + (HI-LO) * (next() >> 11) * 2^-53, floored for ints
 *          fill V            every value V
 *          nodata            chunked (min(dim, 1024) unless chunk=), fill value 0,
 *                            incremental allocation, never written: no chunk stored
 *          partial           as nodata, but the first chunk is written (zeros)
 *
 * Object timestamps are off, so the same input gives the same bytes. On any error
 * OUT is removed and h5mk exits 1 (2 for bad usage).
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hdf5.h>

#define MAX_RANK 32
#define MAX_VALUES ((hsize_t)1 << 28) /* elements a value buffer may hold */
#define MAX_DIM ((long long)1 << 62)

enum { C_FLOAT, C_INT, C_STRING };

static const struct ftype {
	const char *name;
	int cls;
	int64_t lo, hi; /* integer range */
} TYPES[] = {
	{"float32", C_FLOAT, 0, 0},
	{"float64", C_FLOAT, 0, 0},
	{"int8", C_INT, INT8_MIN, INT8_MAX},
	{"int16", C_INT, INT16_MIN, INT16_MAX},
	{"int32", C_INT, INT32_MIN, INT32_MAX},
	{"int64", C_INT, INT64_MIN, INT64_MAX},
	{"uint8", C_INT, 0, UINT8_MAX},
	{"float32be", C_FLOAT, 0, 0},
	{"float64be", C_FLOAT, 0, 0},
	{"int32be", C_INT, INT32_MIN, INT32_MAX},
	{"int64be", C_INT, INT64_MIN, INT64_MAX},
	{"string", C_STRING, 0, 0},
	{"bool", C_INT, 0, 1},
};
#define NTYPES (sizeof TYPES / sizeof TYPES[0])

static hid_t file_type(size_t k)
{
	switch (k) {
	case 0: return H5T_IEEE_F32LE;
	case 1: return H5T_IEEE_F64LE;
	case 2: return H5T_STD_I8LE;
	case 3: return H5T_STD_I16LE;
	case 4: return H5T_STD_I32LE;
	case 5: return H5T_STD_I64LE;
	case 6: return H5T_STD_U8LE;
	case 7: return H5T_IEEE_F32BE;
	case 8: return H5T_IEEE_F64BE;
	case 9: return H5T_STD_I32BE;
	default: return H5T_STD_I64BE;
	}
}

static const char *g_in = "-";
static const char *g_out;
static hid_t g_file = H5I_INVALID_HID;
static hid_t g_cur = H5I_INVALID_HID; /* current group */
static char *g_text, **g_lines; /* the input, split into lines in place */
static size_t g_nlines, g_line; /* g_line: 0-based index of the statement */
static int g_parsing;           /* errors name IN:LINE */

static _Noreturn void die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Report, remove OUT, exit 1. */
static void die(const char *fmt, ...)
{
	va_list ap;
	fputs("h5mk: error: ", stderr);
	if (g_parsing)
		fprintf(stderr, "%s:%zu: ", strcmp(g_in, "-") ? g_in : "<stdin>", g_line + 1);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	if (g_file >= 0) {
		H5Fclose(g_file); /* H5F_CLOSE_STRONG: closes every open object too */
		remove(g_out);
	}
	exit(1);
}

static herr_t first_error(unsigned n, const H5E_error2_t *err, void *data)
{
	if (n == 0 && err->desc)
		snprintf(data, 256, "%s", err->desc);
	return 0;
}

/* The most specific message on HDF5's error stack, or "". */
static const char *h5_reason(void)
{
	static char buf[256];
	buf[0] = '\0';
	H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, first_error, buf);
	return buf;
}

/* The whole of PATH ('-': standard input) as one string. */
static char *slurp(const char *path)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
	char *buf = NULL;
	size_t cap = 0;
	if (!f)
		die("cannot open '%s': %s", path, strerror(errno));
	/* a text file holds no NUL, so this reads to the end */
	if (getdelim(&buf, &cap, '\0', f) < 0) {
		if (ferror(f) || !(buf = realloc(buf, 1)))
			die("cannot read '%s'", path);
		buf[0] = '\0'; /* empty input */
	}
	if (f != stdin)
		fclose(f);
	return buf;
}

static void split_lines(char *buf)
{
	size_t cap = 0;
	for (char *s = buf; *s;) {
		char *e = strchr(s, '\n');
		if (g_nlines == cap && !(g_lines = realloc(g_lines, (cap = cap ? 2 * cap : 64) * sizeof *g_lines)))
			die("out of memory");
		g_lines[g_nlines++] = s;
		if (!e)
			break;
		*e = '\0';
		if (e > s && e[-1] == '\r')
			e[-1] = '\0';
		s = e + 1;
	}
}

static char *skip_ws(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	return s;
}

/* The next whitespace-separated token of *p, NUL-terminated in place. */
static char *next_tok(char **p)
{
	char *s = skip_ws(*p), *e = s;
	if (!*s) {
		*p = s;
		return NULL;
	}
	while (*e && !isspace((unsigned char)*e))
		e++;
	if (*e)
		*e++ = '\0';
	*p = e;
	return s;
}

/* Whether s (after whitespace) starts with the word w. */
static int word_is(const char *s, const char *w)
{
	size_t n = strlen(w);
	while (isspace((unsigned char)*s))
		s++;
	return strncmp(s, w, n) == 0 && (s[n] == '\0' || isspace((unsigned char)s[n]));
}

static int is_blank(const char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	return *s == '\0' || *s == '#';
}

/* The index of the first line that is not blank or a comment. */
static size_t first_statement(void)
{
	size_t k = 0;
	while (k < g_nlines && is_blank(g_lines[k]))
		k++;
	return k;
}

static int is_keyword_line(const char *s)
{
	return word_is(s, "attr") || word_is(s, "group") || word_is(s, "dataset");
}

/* A dim: a non-negative integer or 2^E, at most 2^62. */
static hsize_t parse_dim(char **p)
{
	char *s = *p, *e;
	long long v;
	if (!isdigit((unsigned char)*s))
		die("bad dimension '%.20s'", s);
	errno = 0;
	v = strtoll(s, &e, 10);
	if (*e == '^') {
		if (v != 2 || !isdigit((unsigned char)e[1]))
			die("bad dimension: only powers of two, like 2^40, use '^'");
		v = strtoll(e + 1, &e, 10);
		v = v > 62 ? MAX_DIM + 1 : (long long)1 << v;
	}
	if (errno || v > MAX_DIM)
		die("dimension too large (at most 2^62)");
	*p = e;
	return (hsize_t)v;
}

/* A shape like [2, 3] or [] at *p; returns the rank. */
static int parse_shape(char **p, hsize_t *dims, const char *what)
{
	char *s = skip_ws(*p);
	int rank = 0;
	if (*s++ != '[')
		die("expected %s like [2, 3]", what);
	s = skip_ws(s);
	if (*s != ']') {
		for (;;) {
			if (rank == MAX_RANK)
				die("%s has more than %d dimensions", what, MAX_RANK);
			dims[rank++] = parse_dim(&s);
			s = skip_ws(s);
			if (*s == ']')
				break;
			if (*s++ != ',')
				die("bad %s: expected ',' or ']'", what);
			s = skip_ws(s);
		}
	}
	s++;
	if (*s && !isspace((unsigned char)*s))
		die("bad %s: junk after ']'", what);
	*p = s;
	return rank;
}

static double parse_float(const char *tok)
{
	char *e;
	double v = strtod(tok, &e);
	if (e == tok || *e)
		die("'%s' is not a number", tok);
	return v;
}

static int64_t parse_int(const char *tok, const struct ftype *t)
{
	char *e;
	int64_t v;
	errno = 0;
	v = strtoll(tok, &e, 10);
	if (e == tok || *e || errno) {
		double d = strtod(tok, &e);
		if (e == tok || *e || !(d == floor(d)) || d < -0x1p63 || d >= 0x1p63)
			die("'%s' is not an integer", tok);
		v = (int64_t)d;
	}
	if (v < t->lo || v > t->hi)
		die("value %s out of range for %s", tok, t->name);
	return v;
}

/* Open group PATH below BASE (absolute if it starts with '/'), creating what is
   missing. Returns a new handle. */
static hid_t make_group(hid_t base, const char *path)
{
	char *copy = strdup(path), *save = NULL;
	hid_t loc = H5Gopen2(path[0] == '/' ? g_file : base, path[0] == '/' ? "/" : ".", H5P_DEFAULT);
	hid_t gcpl = H5Pcreate(H5P_GROUP_CREATE);
	if (!copy || loc < 0 || gcpl < 0 || H5Pset_obj_track_times(gcpl, 0) < 0)
		die("cannot open group for '%s'", path);
	for (char *c = strtok_r(copy, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
		hid_t next;
		if (H5Lexists(loc, c, H5P_DEFAULT) > 0) {
			if ((next = H5Gopen2(loc, c, H5P_DEFAULT)) < 0)
				die("'%s' in '%s' is not a group", c, path);
		} else if ((next = H5Gcreate2(loc, c, H5P_DEFAULT, gcpl, H5P_DEFAULT)) < 0) {
			die("cannot create group '%s': %s", path, h5_reason());
		}
		H5Gclose(loc);
		loc = next;
	}
	H5Pclose(gcpl);
	free(copy);
	return loc;
}

static void write_attr(hid_t ftype, hid_t mtype, const char *name, const void *val)
{
	hid_t space = H5Screate(H5S_SCALAR);
	hid_t a = H5Acreate2(g_cur, name, ftype, space, H5P_DEFAULT, H5P_DEFAULT);
	if (a < 0 || H5Awrite(a, mtype, val) < 0)
		die("cannot write attribute '%s': %s", name, h5_reason());
	H5Aclose(a);
	H5Sclose(space);
}

static void do_attr(char *p)
{
	static const struct ftype i64 = {"int64", C_INT, INT64_MIN, INT64_MAX};
	char *name = next_tok(&p), *kind = next_tok(&p), *tok;
	if (!name || !kind)
		die("usage: attr NAME string|int|float|bool VALUE");
	if (!strcmp(kind, "string")) {
		char *v = skip_ws(p), *end = v + strlen(v);
		while (end > v && isspace((unsigned char)end[-1]))
			*--end = '\0';
		hid_t t = H5Tcopy(H5T_C_S1);
		H5Tset_size(t, end > v ? (size_t)(end - v) : 1);
		H5Tset_strpad(t, H5T_STR_NULLTERM);
		write_attr(t, t, name, v);
		H5Tclose(t);
		return;
	}
	if (!(tok = next_tok(&p)) || next_tok(&p))
		die("attribute '%s': expected one value", name);
	if (!strcmp(kind, "int")) {
		int64_t v = parse_int(tok, &i64);
		write_attr(H5T_STD_I64LE, H5T_NATIVE_INT64, name, &v);
	} else if (!strcmp(kind, "float")) {
		double v = parse_float(tok);
		write_attr(H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, name, &v);
	} else if (!strcmp(kind, "bool")) {
		signed char no = 0, yes = 1, v = !strcmp(tok, "true");
		hid_t t = H5Tenum_create(H5T_NATIVE_SCHAR);
		if (strcmp(tok, "true") && strcmp(tok, "false"))
			die("attribute '%s': a bool is true or false", name);
		H5Tenum_insert(t, "FALSE", &no);
		H5Tenum_insert(t, "TRUE", &yes);
		write_attr(t, t, name, &v);
		H5Tclose(t);
	} else {
		die("unknown attribute kind '%s' (string, int, float or bool)", kind);
	}
}

static void do_group(char *p)
{
	char *name = next_tok(&p);
	if (!name || next_tok(&p))
		die("usage: group NAME");
	hid_t g = make_group(g_cur, name);
	H5Gclose(g_cur);
	g_cur = g;
}

static uint64_t splitmix64_next(uint64_t *s)
{
	uint64_t z = (*s += UINT64_C(0x9e3779b97f4a7c15));
	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

/* Tokens of an explicit '= ...' list: the rest of this line, then continuation
   lines (blank and comment lines skipped). *last: the index of the last line. */
static char **collect_values(char *p, size_t *n, size_t *last)
{
	size_t cap = 64, l = g_line;
	char **v = malloc(cap * sizeof *v), *tok;
	*n = 0;
	for (;;) {
		while (v && (tok = next_tok(&p))) {
			if (*n == cap && !(v = realloc(v, (cap *= 2) * sizeof *v)))
				break;
			v[(*n)++] = tok;
		}
		if (!v)
			die("out of memory");
		while (l + 1 < g_nlines && is_blank(g_lines[l + 1]))
			l++;
		if (l + 1 >= g_nlines || is_keyword_line(g_lines[l + 1]))
			break;
		p = g_lines[++l];
	}
	*last = l;
	return v;
}

struct dset {
	char *name;
	const struct ftype *t;
	hid_t ftype;
	int rank, crank, gzip, compact, lazy; /* crank < 0: not chunked */
	hsize_t dims[MAX_RANK], chunk[MAX_RANK], nelem;
};

/* NAME TYPE SHAPE OPTIONS of a dataset statement; returns the values keyword. */
static char *parse_header(char **p, struct dset *d)
{
	char *tname, *mode;
	size_t k;
	d->name = next_tok(p);
	if (!d->name || !(tname = next_tok(p)))
		die("usage: dataset NAME TYPE [d0, ...] [OPTIONS] VALUES");
	for (k = 0; k < NTYPES && strcmp(TYPES[k].name, tname); k++)
		;
	if (k == NTYPES)
		die("unknown type '%s'", tname);
	d->t = &TYPES[k];
	d->ftype = d->t->cls == C_STRING ? H5T_C_S1 : file_type(k);
	d->rank = parse_shape(p, d->dims, "shape");
	d->nelem = 1;
	for (int i = 0; i < d->rank; i++) /* saturating product */
		d->nelem = d->dims[i] && d->nelem > UINT64_MAX / d->dims[i] ? UINT64_MAX : d->nelem * d->dims[i];
	for (d->crank = -1;;) {
		*p = skip_ws(*p);
		if (!strncmp(*p, "chunk=", 6)) {
			*p += 6;
			d->crank = parse_shape(p, d->chunk, "chunk shape");
		} else if (word_is(*p, "gzip")) {
			next_tok(p);
			d->gzip = 1;
		} else if (word_is(*p, "compact")) {
			next_tok(p);
			d->compact = 1;
		} else {
			break;
		}
	}
	if (!(mode = next_tok(p)))
		die("dataset '%s': missing values (=, random, fill, nodata or partial)", d->name);
	d->lazy = !strcmp(mode, "nodata") || !strcmp(mode, "partial");

	if (d->crank >= 0 && d->crank != d->rank)
		die("dataset '%s': chunk shape has rank %d, shape has rank %d", d->name, d->crank, d->rank);
	for (int i = 0; i < d->crank; i++)
		if (d->chunk[i] < 1 || d->chunk[i] > d->dims[i])
			die("dataset '%s': chunk dims must be in [1, dim]", d->name);
	if (d->compact && (d->crank >= 0 || d->gzip || d->lazy))
		die("dataset '%s': compact excludes chunk=, gzip, nodata and partial", d->name);
	if ((d->crank >= 0 || d->gzip || d->lazy) && d->rank == 0)
		die("dataset '%s': a scalar cannot be chunked", d->name);
	if (d->t->cls == C_STRING && (d->lazy || !strcmp(mode, "random")))
		die("dataset '%s': string datasets take '=' or 'fill'", d->name);
	if (d->crank < 0 && (d->gzip || d->lazy) && d->nelem > 0) { /* default chunk */
		d->crank = d->rank;
		for (int i = 0; i < d->rank; i++)
			d->chunk[i] = (d->lazy && d->dims[i] > 1024) ? 1024 : d->dims[i];
	}
	return mode;
}

/* The row-major values of '=', 'fill' or 'random' at p: doubles (float
   types), int64 (integer types) or fixed strings of *width bytes. */
static void *make_values(struct dset *d, const char *mode, char *p, size_t *width, size_t *last)
{
	const struct ftype *t = d->t;
	size_t nvals = 1, w = 8;
	char **vals = NULL, *e;
	int fill = !strcmp(mode, "fill");

	if (!strcmp(mode, "=")) {
		vals = collect_values(p, &nvals, last);
		if (nvals != d->nelem)
			die("dataset '%s': %zu values for %llu elements", d->name, nvals,
			    (unsigned long long)d->nelem);
	} else if (fill) {
		if (!(vals = malloc(sizeof *vals)) || !(vals[0] = next_tok(&p)) || next_tok(&p))
			die("usage: fill VALUE");
	} else if (strcmp(mode, "random")) {
		die("dataset '%s': unknown values '%s'", d->name, mode);
	}
	if (d->nelem > MAX_VALUES)
		die("dataset '%s': too large for values (use nodata or partial)", d->name);
	if (t->cls == C_STRING) {
		w = 1;
		for (size_t i = 0; i < nvals; i++)
			w = strlen(vals[i]) > w ? strlen(vals[i]) : w;
	}
	char *buf = calloc(d->nelem ? d->nelem : 1, w);
	double *dv = (double *)buf;
	int64_t *iv = (int64_t *)buf;
	if (!buf)
		die("out of memory");

	if (vals) {
		for (hsize_t i = 0; i < d->nelem; i++) {
			const char *v = vals[fill ? 0 : i];
			if (t->cls == C_STRING)
				memcpy(buf + i * w, v, strlen(v));
			else if (t->cls == C_FLOAT)
				dv[i] = parse_float(v);
			else
				iv[i] = parse_int(v, t);
		}
		free(vals);
	} else {
		char *s = next_tok(&p), *lo_s = next_tok(&p), *hi_s = next_tok(&p);
		double lo = -2, hi = 2;
		if (!s || (lo_s && !hi_s) || next_tok(&p))
			die("usage: random SEED [LO HI]");
		errno = 0;
		uint64_t seed = strtoull(s, &e, 10);
		if (e == s || *e || errno || *s == '-')
			die("bad seed '%s'", s);
		if (lo_s) {
			lo = parse_float(lo_s);
			hi = parse_float(hi_s);
		}
		if (!isfinite(lo) || !isfinite(hi) || !(lo <= hi))
			die("random range needs finite LO <= HI");
		/* -std=c11 keeps GCC from contracting this into an FMA */
		for (hsize_t i = 0; i < d->nelem; i++) {
			double u = (double)(splitmix64_next(&seed) >> 11) * 0x1p-53;
			double v = lo + (hi - lo) * u;
			if (t->cls == C_FLOAT) {
				dv[i] = v;
				continue;
			}
			if ((v = floor(v)) < (double)t->lo || v > (double)t->hi || v >= 0x1p63)
				die("random value %g out of range for %s", v, t->name);
			iv[i] = (int64_t)v;
		}
	}
	*width = w;
	return buf;
}

/* Create dataset d in the current group (or below it) and write buf into it,
   or for nodata / partial nothing / the first chunk. */
static void create_dataset(struct dset *d, void *buf, size_t width, int partial)
{
	hid_t mtype = d->t->cls == C_FLOAT ? H5T_NATIVE_DOUBLE : H5T_NATIVE_INT64;
	hid_t ftype = d->ftype, dcpl = H5Pcreate(H5P_DATASET_CREATE), loc;
	const char *slash = strrchr(d->name, '/');
	double zero = 0;

	if (d->t->cls == C_STRING) {
		ftype = mtype = H5Tcopy(H5T_C_S1);
		H5Tset_size(ftype, width);
		H5Tset_strpad(ftype, H5T_STR_NULLTERM);
	}
	if (!strcmp(d->t->name, "bool")) {
		/* HDF5 converts no number to an enum: write the int8 bytes. */
		signed char no = 0, yes = 1;
		ftype = mtype = H5Tenum_create(H5T_NATIVE_SCHAR);
		H5Tenum_insert(ftype, "FALSE", &no);
		H5Tenum_insert(ftype, "TRUE", &yes);
		for (hsize_t k = 0; buf && k < d->nelem; k++)
			((signed char *)buf)[k] = (signed char)((int64_t *)buf)[k];
	}
	if (dcpl < 0 || H5Pset_obj_track_times(dcpl, 0) < 0)
		die("cannot make a dataset property list");
	if (d->crank >= 0 && H5Pset_chunk(dcpl, d->crank, d->chunk) < 0)
		die("dataset '%s': bad chunk shape: %s", d->name, h5_reason());
	if (d->gzip && H5Pset_deflate(dcpl, 4) < 0)
		die("dataset '%s': gzip unavailable", d->name);
	if (d->compact && H5Pset_layout(dcpl, H5D_COMPACT) < 0)
		die("dataset '%s': cannot use compact layout", d->name);
	if (d->lazy && (H5Pset_alloc_time(dcpl, H5D_ALLOC_TIME_INCR) < 0 ||
	                H5Pset_fill_value(dcpl, H5T_NATIVE_DOUBLE, &zero) < 0))
		die("dataset '%s': cannot set the fill value", d->name);

	if (slash) {
		char *dir = strndup(d->name, (size_t)(slash - d->name) + (slash == d->name));
		if (!dir)
			die("out of memory");
		loc = make_group(g_cur, dir);
		free(dir);
	} else {
		loc = H5Gopen2(g_cur, ".", H5P_DEFAULT);
	}
	hid_t space = d->rank ? H5Screate_simple(d->rank, d->dims, NULL) : H5Screate(H5S_SCALAR);
	hid_t dset = H5Dcreate2(loc, slash ? slash + 1 : d->name, ftype, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
	if (space < 0 || dset < 0)
		die("cannot create dataset '%s': %s", d->name, h5_reason());
	if (buf && d->nelem > 0 && H5Dwrite(dset, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0)
		die("cannot write dataset '%s': %s", d->name, h5_reason());
	if (partial && d->crank > 0) {
		hsize_t start[MAX_RANK] = {0}, count = 1;
		for (int i = 0; i < d->rank; i++)
			count *= d->chunk[i];
		void *zeros = calloc(count, 8);
		hid_t mspace = H5Screate_simple(d->rank, d->chunk, NULL);
		if (!zeros)
			die("out of memory");
		if (H5Sselect_hyperslab(space, H5S_SELECT_SET, start, NULL, d->chunk, NULL) < 0 ||
		    H5Dwrite(dset, mtype, mspace, space, H5P_DEFAULT, zeros) < 0)
			die("cannot write dataset '%s': %s", d->name, h5_reason());
		H5Sclose(mspace);
		free(zeros);
	}
	H5Dclose(dset);
	H5Sclose(space);
	H5Gclose(loc);
	H5Pclose(dcpl);
	if (d->t->cls == C_STRING || !strcmp(d->t->name, "bool"))
		H5Tclose(ftype);
}

static void do_dataset(char *p)
{
	struct dset d = {0};
	size_t width = 0, last = g_line; /* last: past any continuation lines */
	char *mode = parse_header(&p, &d);
	void *buf = d.lazy ? NULL : make_values(&d, mode, p, &width, &last);

	create_dataset(&d, buf, width, !strcmp(mode, "partial"));
	free(buf);
	g_line = last;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fputs("usage: h5mk IN.txt OUT.h5   (IN may be '-' for standard input)\n", stderr);
		return 2;
	}
	g_in = argv[1];
	g_out = argv[2];
	H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
	g_text = slurp(g_in);
	split_lines(g_text);

	hid_t fapl = H5Pcreate(H5P_FILE_ACCESS), fcpl = H5Pcreate(H5P_FILE_CREATE);
	if (fapl < 0 || H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG) < 0 || fcpl < 0)
		die("cannot make the file's property lists");
	g_line = first_statement();
	if (g_line < g_nlines && word_is(g_lines[g_line], "userblock")) {
		char *p = g_lines[g_line];
		next_tok(&p);
		if (H5Pset_userblock(fcpl, (hsize_t)parse_int(next_tok(&p), &TYPES[5])) < 0)
			die("userblock: a power of two of at least 512, please");
		g_lines[g_line][0] = '#'; /* done */
	}
	g_file = H5Fcreate(g_out, H5F_ACC_TRUNC, fcpl, fapl);
	if (g_file < 0)
		die("cannot create '%s': %s", g_out, h5_reason());
	H5Pclose(fcpl);
	H5Pclose(fapl);
	if ((g_cur = H5Gopen2(g_file, "/", H5P_DEFAULT)) < 0)
		die("cannot open the root group of '%s'", g_out);

	g_parsing = 1;
	for (g_line = 0; g_line < g_nlines; g_line++) {
		char *p = g_lines[g_line], *kw;
		if (is_blank(p))
			continue;
		kw = next_tok(&p);
		if (!strcmp(kw, "attr"))
			do_attr(p);
		else if (!strcmp(kw, "group"))
			do_group(p);
		else if (!strcmp(kw, "dataset"))
			do_dataset(p);
		else
			die("unexpected '%s' (expected attr, group or dataset)", kw);
	}
	g_parsing = 0;
	H5Gclose(g_cur);
	if (H5Fclose(g_file) < 0) {
		g_file = H5I_INVALID_HID;
		remove(g_out);
		die("cannot write '%s'", g_out);
	}
	free(g_lines);
	free(g_text);
	return 0;
}
