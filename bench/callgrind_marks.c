/* Marks for bench/bench_instructions.py: zero callgrind's counters before a scenario's measured
 * requests and dump them after, so each dump holds exactly those requests' instructions.
 * Outside valgrind the client requests are a few no-op instructions. */
#include <valgrind/callgrind.h>

void marks_zero(void) { CALLGRIND_ZERO_STATS; }

void marks_dump(const char *name) { CALLGRIND_DUMP_STATS_AT(name); }

int marks_on_valgrind(void) { return RUNNING_ON_VALGRIND; }
