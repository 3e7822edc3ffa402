/* store_schema.h - the schema as an ordered list of migrations.
 *
 * Migration N (0-based) takes PRAGMA user_version from N to N+1.  Never
 * edit a released step; append a new one.
 */
#ifndef TG_STORE_SCHEMA_H
#define TG_STORE_SCHEMA_H

#include <glib.h>

guint tg_store_schema_count(void);
const char *tg_store_schema_step(guint n);

#endif
