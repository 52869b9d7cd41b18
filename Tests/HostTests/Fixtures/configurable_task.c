/*
 * A test plugin whose faults are chosen at compile time, one -D per bad-plugin case:
 *   TASK_NAME="x"      the registered name (default "fixture")
 *   NULL_NAME          register a NULL name
 *   MAJOR_DELTA=n      add n to the ABI major it claims
 *   MINOR_DELTA=n      add n to the ABI minor it claims
 *   NO_ENTRY           export no tawon_task_entry
 *   BAD_CAPABILITY_SET a capability set naming an unregistered function
 *   BAD_FIELD_TYPE     an output field of unknown type
 */
#include <stdlib.h>
#include "tawon_task.h"

#ifndef TASK_NAME
#define TASK_NAME "fixture"
#endif
#ifndef MAJOR_DELTA
#define MAJOR_DELTA 0
#endif
#ifndef MINOR_DELTA
#define MINOR_DELTA 0
#endif

static const char *const argument_names[] = {"fd"};
static const char *const argument_types[] = {"int"};
#ifdef BAD_CAPABILITY_SET
static const char *const set_functions[] = {"close", "no_such_function"};
#else
static const char *const set_functions[] = {"close"};
#endif

static tawon_rc fixture_describe(tawon_registration *registration, const tawon_registrar *registrar)
{
#ifdef NULL_NAME
    tawon_task_info info = {sizeof info, NULL, "1.0.0", "A fixture."};
#else
    tawon_task_info info = {sizeof info, TASK_NAME, "1.0.0", "A fixture."};
#endif
    tawon_function close_function = {sizeof close_function, "close", 3, argument_names,
                                     argument_types, 1};
    tawon_capability_set set = {sizeof set, "CLOSING", "", set_functions,
                                sizeof set_functions / sizeof set_functions[0]};
#ifdef BAD_FIELD_TYPE
    tawon_output_field field = {sizeof field, "fixture.value", "float128", "A value."};
#else
    tawon_output_field field = {sizeof field, "fixture.value", "string|uint64", "A value."};
#endif
    registrar->set_info(registration, &info);
    registrar->add_function(registration, &close_function);
    registrar->add_capability_set(registration, &set);
    registrar->add_output_field(registration, &field);
    return TAWON_RC_OK;
}

static tawon_rc fixture_create(const tawon_host_api *host, tawon_host_context *context,
                               const tawon_option_value *const *options, uint32_t count,
                               tawon_instance **out)
{
    (void)host; (void)context; (void)options; (void)count;
    *out = (tawon_instance *)calloc(1, 1);
    return TAWON_RC_OK;
}
static const char *fixture_last_error(tawon_instance *instance) { (void)instance; return ""; }
static tawon_rc fixture_start(tawon_instance *instance) { (void)instance; return TAWON_RC_OK; }
static tawon_rc fixture_on_event(tawon_instance *instance, const tawon_event *event)
{
    (void)instance; (void)event;
    return TAWON_RC_OK;
}
static tawon_rc fixture_stop(tawon_instance *instance) { (void)instance; return TAWON_RC_OK; }
static void fixture_destroy(tawon_instance *instance) { free(instance); }

#ifdef NO_ENTRY
TAWON_TASK_EXPORT const tawon_task_descriptor *tawon_task_entry_misspelled(void)
#else
TAWON_TASK_EXPORT const tawon_task_descriptor *tawon_task_entry(void)
#endif
{
    static const tawon_task_descriptor descriptor = {
        sizeof descriptor, TAWON_TASK_ABI_MAJOR + MAJOR_DELTA, TAWON_TASK_ABI_MINOR + MINOR_DELTA,
        TAWON_TASK_ABI_PATCH, fixture_describe, fixture_create, fixture_last_error, fixture_start,
        fixture_on_event, fixture_stop, fixture_destroy,
    };
    return &descriptor;
}
