#ifndef MODELC_BENCH_STATS_H
#define MODELC_BENCH_STATS_H

/* Small statistics over latency samples: pure functions, no allocation. */

#include <stddef.h>

/* Sort v ascending in place. */
void bench_stats_sort(double *v, size_t n);

/* Arithmetic mean of v; 0 when n is 0. */
double bench_stats_mean(const double *v, size_t n);

/*
 * The p-th percentile (0..100) of an ascending array, interpolating linearly between the
 * two nearest ranks (numpy's default); 0 when n is 0.
 */
double bench_stats_percentile(const double *sorted, size_t n, double p);

#endif
