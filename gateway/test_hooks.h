/* test_hooks.h - test-only crash points, inert in production.
 *
 * TEST HOOK.  tg_test_hooks_pause(STEP) does nothing unless the
 * environment variable TICKETGATE_TEST_PAUSE equals STEP; then the process
 * kills itself with SIGKILL right there, exactly as an OOM killer or a
 * power cut would.  tests/faults/kill_steps.sh uses it to crash `deliver`
 * at every step of the pipeline and check that recovery (`spool retry`)
 * stores every accepted message exactly once.  Steps, in pipeline order:
 *   "in-spool-write"  body written to incoming/, not yet committed (fsync,
 *                     rename): the message is NOT accepted yet
 *   "after-spool"     committed to queue/: accepted, not yet parsed
 *   "after-parse"     parsed, before the store transaction
 *   "after-commit"    the store committed, the spool entry not yet retired
 *   "after-retire"    retired, before the process exits 0
 * The variable is read once per process.  No production path sets it;
 * an operator who sets it gets exactly what it says.
 */
#ifndef TG_TEST_HOOKS_H
#define TG_TEST_HOOKS_H

#include <glib.h>

/* Raises SIGKILL when $TICKETGATE_TEST_PAUSE equals STEP; else returns. */
void tg_test_hooks_pause(const char *step);
/* Blocks the calling thread for good when $TICKETGATE_TEST_HOLD equals
 * STEP ("worker": serve's worker before its first batch), so a test can
 * look at, and kill, a daemon whose accepted mail is not ticketed yet. */
void tg_test_hooks_hold(const char *step);
/* $TICKETGATE_TEST_<NAME> as a number of bytes, else DEFAULT_VALUE: a
 * bound a test needs to reach without gigabytes of load (WORKER_MEMORY:
 * serve_worker.h). */
gsize tg_test_hooks_size(const char *name, gsize default_value);

#endif
