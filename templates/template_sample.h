/*
 * template_sample — sample data covering the whole template data model.
 *
 * PURPOSE
 *   `ticketgate check` renders every template against this data, so a typo in
 *   a variable name is reported as `file:line: undefined variable 'x'`.  It is
 *   also the executable form of docs/templates.md: every documented name is
 *   present here, with realistic Japanese values.
 *
 * PUBLIC FUNCTIONS
 *   template_sample_new()   (transfer full) a fresh JsonNode object
 */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

JsonNode *template_sample_new(void);

G_END_DECLS
