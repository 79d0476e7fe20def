/* score.c - two-decimal points arithmetic. */
#include "score.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

/* v*100 of a decimal like 2.675 is 267.49999999999997 in binary; a few ulps of nudge
 * away from zero make such values round the way a person expects. */
double score_round2(double v)
{
	double r;

	if (!isfinite(v))
		return v;
	r = v * 100.0;
	r += copysign(fabs(r) * 8 * DBL_EPSILON, r);
	r = round(r) / 100.0;
	return r == 0 ? 0.0 : r; /* never -0 */
}

char *score_format(double v, char *out, size_t outlen)
{
	char buf[400]; /* %.2f of DBL_MAX is 312 characters */
	char *dot;
	size_t n;

	if (!out || outlen == 0)
		return out;
	v = score_round2(v);
	if (!isfinite(v))
		snprintf(buf, sizeof buf, "%s", isnan(v) ? "nan" : (v > 0 ? "inf" : "-inf"));
	else
		snprintf(buf, sizeof buf, "%.2f", v);
	dot = strchr(buf, '.');
	if (dot) {
		n = strlen(buf);
		while (n > 0 && buf[n - 1] == '0')
			buf[--n] = '\0';
		if (n > 0 && buf[n - 1] == '.')
			buf[--n] = '\0';
	}
	if (strcmp(buf, "-0") == 0)
		strcpy(buf, "0");
	snprintf(out, outlen, "%s", buf);
	return out;
}

double score_scale(double max_points, double total_weight)
{
	if (!isfinite(max_points) || !isfinite(total_weight) || max_points <= 0 ||
	    total_weight <= 0)
		return 1.0;
	return max_points / total_weight;
}
