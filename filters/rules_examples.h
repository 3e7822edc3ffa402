/* rules_examples.h - the example rules (every .rules file of filters/examples)
 * into the binary: the rule set of the embedded default configuration. */
#ifndef TG_RULES_EXAMPLES_H
#define TG_RULES_EXAMPLES_H

#include "filters/rules.h"

extern const TgRuleSource tg_rules_examples[];
extern const gsize tg_rules_examples_count;

#endif
