/* cli_gradebook.c - `gradeq gradebook`: best score per (student, exercise), as CSV,
 * JSON or a table. */
#include "cli_gradebook.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_call.h"
#include "cli_opts.h"
#include "score.h"

#define CELL 32

static const char gradebook_help[] =
	"usage: gradeq gradebook [--csv|--json] COURSE\n"
	"\n"
	"Prints the best score of every student in every exercise of COURSE and their total\n"
	"(instructor token). Empty cell: no graded submission.\n"
	"\n"
	"options:\n"
	"  --csv    student,<exercise...>,total; exercises and students sorted by name\n"
	"  --json   the dispatcher's answer\n"
	"\n"
	"examples:\n"
	"  gradeq gradebook cs101\n"
	"  gradeq gradebook --csv cs101 > grades.csv\n";

/* The gradebook as a sorted matrix of formatted cells. */
struct matrix {
	const char **ex; /* sorted, unique; strings owned by the JSON */
	size_t nex;
	const json_t **rows; /* student objects sorted by "student" */
	size_t nst;
	char *cells; /* nst x (nex + 1) cells of CELL bytes; last column is the total */
};

static char *cell(const struct matrix *m, size_t row, size_t col)
{
	return m->cells + (row * (m->nex + 1) + col) * CELL;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static const char *row_name(const json_t *row)
{
	return json_string_value(json_object_get(row, "student"));
}

static int cmp_row(const void *a, const void *b)
{
	return strcmp(row_name(*(const json_t *const *)a), row_name(*(const json_t *const *)b));
}

static void matrix_free(struct matrix *m)
{
	free(m->ex);
	free(m->rows);
	free(m->cells);
}

static int add_ex(struct matrix *m, size_t cap, const char *name)
{
	for (size_t i = 0; i < m->nex; i++)
		if (strcmp(m->ex[i], name) == 0)
			return 0;
	if (m->nex == cap)
		return -ENOSPC;
	m->ex[m->nex++] = name;
	return 0;
}

static int matrix_build(const json_t *gb, struct matrix *m, char *err, size_t errlen)
{
	const json_t *exs = json_object_get(gb, "exercises");
	const json_t *sts = json_object_get(gb, "students");
	size_t i, cap;
	const json_t *v;
	const char *key;
	json_t *sv;

	memset(m, 0, sizeof *m);
	if (!json_is_object(gb) || !json_is_array(sts) || (exs && !json_is_array(exs))) {
		snprintf(err, errlen,
		         "malformed gradebook: expected {\"exercises\":[...],\"students\":[...]}");
		return -EINVAL;
	}
	/* every exercise listed or scored by someone is a column */
	cap = json_array_size(exs);
	json_array_foreach(sts, i, v) cap += json_object_size(json_object_get(v, "scores"));
	m->ex = calloc(cap + 1, sizeof *m->ex);
	m->rows = calloc(json_array_size(sts) + 1, sizeof *m->rows);
	if (!m->ex || !m->rows)
		goto nomem;
	json_array_foreach(exs, i, v)
	{
		if (!json_is_string(v))
			goto bad;
		add_ex(m, cap, json_string_value(v));
	}
	json_array_foreach(sts, i, v)
	{
		const json_t *scores = json_object_get(v, "scores");
		if (!json_is_object(v) || !row_name(v) || (scores && !json_is_object(scores)))
			goto bad;
		json_object_foreach((json_t *)scores, key, sv) add_ex(m, cap, key);
		m->rows[m->nst++] = v;
	}
	qsort(m->ex, m->nex, sizeof *m->ex, cmp_str);
	qsort(m->rows, m->nst, sizeof *m->rows, cmp_row);

	m->cells = calloc(m->nst * (m->nex + 1) + 1, CELL);
	if (!m->cells)
		goto nomem;
	for (size_t r = 0; r < m->nst; r++) {
		const json_t *scores = json_object_get(m->rows[r], "scores");
		double total = 0;
		for (size_t c = 0; c < m->nex; c++) {
			const json_t *s = json_object_get(scores, m->ex[c]);
			if (json_is_number(s)) {
				score_format(json_number_value(s), cell(m, r, c), CELL);
				total += json_number_value(s);
			} else if (s && !json_is_null(s)) {
				goto bad;
			}
		}
		score_format(total, cell(m, r, m->nex), CELL);
	}
	return 0;
bad:
	snprintf(err, errlen, "malformed gradebook: unexpected entry (not a name or a number)");
	matrix_free(m);
	return -EINVAL;
nomem:
	snprintf(err, errlen, "out of memory");
	matrix_free(m);
	return -ENOMEM;
}

/* RFC 4180 quoting, needed only if a name ever holds a comma, quote or newline. */
static void csv_field(FILE *out, const char *s)
{
	if (!strpbrk(s, ",\"\r\n")) {
		fputs(s, out);
		return;
	}
	fputc('"', out);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', out);
		fputc(*s, out);
	}
	fputc('"', out);
}

int cli_gradebook_csv(const json_t *gb, FILE *out, char *err, size_t errlen)
{
	struct matrix m;
	int rc = matrix_build(gb, &m, err, errlen);

	if (rc != 0)
		return rc;
	fputs("student", out);
	for (size_t c = 0; c < m.nex; c++) {
		fputc(',', out);
		csv_field(out, m.ex[c]);
	}
	fputs(",total\n", out);
	for (size_t r = 0; r < m.nst; r++) {
		csv_field(out, row_name(m.rows[r]));
		for (size_t c = 0; c <= m.nex; c++) {
			fputc(',', out);
			fputs(cell(&m, r, c), out);
		}
		fputc('\n', out);
	}
	matrix_free(&m);
	return 0;
}

int cli_gradebook_table(const json_t *gb, FILE *out, char *err, size_t errlen)
{
	struct matrix m;
	int rc = matrix_build(gb, &m, err, errlen);

	if (rc != 0)
		return rc;
	size_t *w = calloc(m.nex + 2, sizeof *w);
	if (!w) {
		matrix_free(&m);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	/* w[0]: student column; w[1 + c]: exercise c; w[1 + nex]: total */
	w[0] = strlen("student");
	for (size_t c = 0; c < m.nex; c++)
		w[1 + c] = strlen(m.ex[c]);
	w[1 + m.nex] = strlen("total");
	for (size_t r = 0; r < m.nst; r++) {
		size_t l = strlen(row_name(m.rows[r]));
		if (l > w[0])
			w[0] = l;
		for (size_t c = 0; c <= m.nex; c++) {
			l = strlen(cell(&m, r, c));
			if (l > w[1 + c])
				w[1 + c] = l;
		}
	}
	fprintf(out, "%-*s", (int)w[0], "student");
	for (size_t c = 0; c < m.nex; c++)
		fprintf(out, "  %*s", (int)w[1 + c], m.ex[c]);
	fprintf(out, "  %*s\n", (int)w[1 + m.nex], "total");
	for (size_t r = 0; r < m.nst; r++) {
		fprintf(out, "%-*s", (int)w[0], row_name(m.rows[r]));
		for (size_t c = 0; c <= m.nex; c++) {
			const char *s = cell(&m, r, c);
			fprintf(out, "  %*s", (int)w[1 + c], *s ? s : "-");
		}
		fputc('\n', out);
	}
	fprintf(out, "(%zu students, %zu exercises)\n", m.nst, m.nex);
	free(w);
	matrix_free(&m);
	return 0;
}

int cli_gradebook_parse(int argc, char **argv, struct cli_gradebook_opts *o, char *err,
                        size_t errlen)
{
	bool csv = false, json = false;
	const struct cli_opt opts[] = {
		cli_opt_flag("csv", &csv),
		cli_opt_flag("json", &json),
		CLI_OPT_END,
	};

	memset(o, 0, sizeof *o);
	int rc = cli_parse_opts(argc, argv, opts, err, errlen);
	if (rc != 0)
		return rc;
	if (csv && json) {
		snprintf(err, errlen, "gradebook: --csv and --json exclude each other");
		return -EINVAL;
	}
	o->format = csv ? CLI_GB_CSV : json ? CLI_GB_JSON : CLI_GB_TABLE;
	if (cli_expect_args(argc, argv, 1, "[--csv|--json] COURSE", err, errlen) != 0)
		return -EINVAL;
	o->course = argv[optind];
	if (!name_valid(o->course)) {
		snprintf(err, errlen, "gradebook: invalid course name '%.80s'", o->course);
		return -EINVAL;
	}
	return 0;
}

int cli_gradebook_main(int argc, char **argv)
{
	struct cli_gradebook_opts o;
	struct cli_env env;
	char err[1024], path[128];
	int ret = CLI_EXIT_FAIL;
	int rc = cli_gradebook_parse(argc, argv, &o, err, sizeof err);

	if ((rc = cli_start(rc, gradebook_help, &env, err, sizeof err)) != CLI_RUN)
		return rc;
	snprintf(path, sizeof path, "/v1/courses/%s/gradebook", o.course);
	json_t *gb = cli_call_json(&env, "GET", path, NULL, NULL, 0, 60, "gradebook %s", o.course);
	if (!gb)
		return CLI_EXIT_FAIL;
	if (o.format == CLI_GB_JSON) {
		cli_call_print_json(gb);
		rc = 0;
	} else if (o.format == CLI_GB_CSV) {
		rc = cli_gradebook_csv(gb, stdout, err, sizeof err);
	} else {
		rc = cli_gradebook_table(gb, stdout, err, sizeof err);
	}
	if (rc != 0)
		cli_fail("gradebook %s: %s", o.course, err);
	else
		ret = 0;
	json_decref(gb);
	return ret;
}
