/* score.h - points arithmetic shared by the node (scoring) and the CLI (printing).
 * docs/exercises.md, "Scoring": unmarked tests weigh 1, @pytest.mark.points(x) weighs x; with
 * max_points, score = max_points * earned / total; fractions kept to two decimals. */
#pragma once
#include <stddef.h>

/* Rounds to two decimals, half away from zero. */
double score_round2(double v);
/* Formats v rounded to two decimals without trailing zeros: 7.5, 10, 6.67, 0.
 * out must hold at least 32 bytes; returns out. */
char *score_format(double v, char *out, size_t outlen);
/* Scale factor applied to each weight: max_points / total_weight, or 1 when
 * max_points <= 0 or total_weight <= 0. */
double score_scale(double max_points, double total_weight);
