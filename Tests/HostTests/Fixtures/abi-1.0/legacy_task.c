/*
 * A task built against the frozen task ABI 1.0 header beside this file: what a third party
 * shipped before 1.1. The tests build it and run it under today's host, which must keep
 * working with it unchanged: registration, options, events, emit, process_info.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tawon_task.h"

typedef struct {
    const tawon_host_api *host;
    tawon_host_context *context;
    char greeting[64];
    int64_t repeat;
    uint32_t loud;
    char error[128];
} legacy_instance;

static const char *const write_names[] = {"fd", "buf", "count"};
static const char *const write_types[] = {"unsigned int", "const char *", "size_t"};
static const char *const set_functions[] = {"write"};

static tawon_rc legacy_describe(tawon_registration *registration, const tawon_registrar *registrar)
{
    tawon_task_info info = {sizeof info, "legacy", "1.0.0", "A task built for ABI 1.0."};
    tawon_function write_function = {sizeof write_function, "write", 1, write_names, write_types, 3};
    tawon_capability_set set = {sizeof set, "WRITING", "Writes.", set_functions, 1};
    tawon_output_field field = {sizeof field, "legacy", "map", "What the legacy task saw."};
    tawon_option greeting = {sizeof greeting, "greeting", TAWON_OPTION_STRING, "hello", "A greeting."};
    tawon_option repeat = {sizeof repeat, "repeat", TAWON_OPTION_INT64, "1", "How often."};
    tawon_option loud = {sizeof loud, "loud", TAWON_OPTION_BOOL, "false", "Shout."};
    if (registrar->set_info(registration, &info) || registrar->add_function(registration, &write_function) ||
        registrar->add_capability_set(registration, &set) || registrar->add_output_field(registration, &field) ||
        registrar->add_option(registration, &greeting) || registrar->add_option(registration, &repeat) ||
        registrar->add_option(registration, &loud))
        return TAWON_RC_FAILURE;
    return TAWON_RC_OK;
}

static tawon_rc legacy_create(const tawon_host_api *host, tawon_host_context *context,
                              const tawon_option_value *const *options, uint32_t count,
                              tawon_instance **out)
{
    legacy_instance *instance = calloc(1, sizeof *instance);
    if (!instance)
        return TAWON_RC_NO_MEMORY;
    *out = (tawon_instance *)instance;
    instance->host = host;
    instance->context = context;
    for (uint32_t i = 0; i < count; i++) {
        if (strcmp(options[i]->name, "greeting") == 0)
            snprintf(instance->greeting, sizeof instance->greeting, "%s", options[i]->text);
        else if (strcmp(options[i]->name, "repeat") == 0)
            instance->repeat = options[i]->int_value;
        else if (strcmp(options[i]->name, "loud") == 0)
            instance->loud = options[i]->bool_value;
    }
    if (instance->repeat < 1) {
        snprintf(instance->error, sizeof instance->error, "repeat must be at least 1");
        return TAWON_RC_INVALID_ARGUMENT;
    }
    return host->hook_function(context, 1);
}

static const char *legacy_last_error(tawon_instance *instance)
{
    return instance ? ((legacy_instance *)instance)->error : "";
}

static tawon_rc legacy_start(tawon_instance *instance) { (void)instance; return TAWON_RC_OK; }

static tawon_rc legacy_on_event(tawon_instance *opaque, const tawon_event *event)
{
    legacy_instance *instance = (legacy_instance *)opaque;
    tawon_process_info info;
    memset(&info, 0, sizeof info);
    info.struct_size = sizeof info;
    const char *name = "?";
    if (instance->host->process_info(instance->context, event->pid, &info) == TAWON_RC_OK &&
        info.struct_size == sizeof info)
        name = info.name;
    char json[512];
    for (int64_t i = 0; i < instance->repeat; i++) {
        int length = snprintf(
            json, sizeof json,
            "{\"legacy\":{\"function\":\"%s\",\"pid\":%" PRIu32 ",\"fd\":%" PRIu64 ",\"name\":\"%s\","
            "\"greeting\":\"%s\",\"loud\":%s,\"args\":%" PRIu32 "}}",
            event->function_name, event->pid, event->arg_count > 0 ? event->args[0]->value : 0, name,
            instance->greeting, instance->loud ? "true" : "false", event->arg_count);
        tawon_record record = {sizeof record, json, (uint32_t)length, event->timestamp_ns};
        tawon_rc rc = instance->host->emit(instance->context, &record);
        if (rc != TAWON_RC_OK)
            return rc;
    }
    return TAWON_RC_OK;
}

static tawon_rc legacy_stop(tawon_instance *instance) { (void)instance; return TAWON_RC_OK; }
static void legacy_destroy(tawon_instance *instance) { free(instance); }

TAWON_TASK_EXPORT const tawon_task_descriptor *tawon_task_entry(void)
{
    static const tawon_task_descriptor descriptor = {
        sizeof descriptor, TAWON_TASK_ABI_MAJOR, TAWON_TASK_ABI_MINOR, TAWON_TASK_ABI_PATCH,
        legacy_describe, legacy_create, legacy_last_error, legacy_start,
        legacy_on_event, legacy_stop, legacy_destroy,
    };
    return &descriptor;
}
