/*
 * A task built against today's header that subscribes to what its `subscribe` option names:
 * "KIND:ID" pairs joined by '+' (decimal, ID up to 2^64-1), passed to host->subscribe as they
 * are. A refused subscription refuses the directive with the host's own reason. Each event is
 * emitted as {"event":NAME,"kind":K,"pid":P,"args":{NAME:VALUE...}}.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tawon_task.h"

typedef struct {
    const tawon_host_api *host;
    tawon_host_context *context;
    char error[512];
} events_instance;

static const char *const no_names[] = {0};
static const char *const no_types[] = {0};

static tawon_rc events_describe(tawon_registration *registration, const tawon_registrar *registrar)
{
    tawon_task_info info = {sizeof info, "process-events", "1.0.0", "Process lifecycle events."};
    tawon_function getppid_function = {sizeof getppid_function, "getppid", 110, no_names, no_types, 0};
    /* Registered, but no syscall: hooking it must be refused, not ignored. */
    tawon_function huge = {sizeof huge, "huge", UINT64_C(1) << 63, no_names, no_types, 0};
    tawon_output_field field = {sizeof field, "event", "string", "The event's name."};
    tawon_option subscribe = {sizeof subscribe, "subscribe", TAWON_OPTION_STRING, "2:1", "KIND:ID pairs."};
    registrar->set_info(registration, &info);
    registrar->add_function(registration, &getppid_function);
    registrar->add_function(registration, &huge);
    registrar->add_output_field(registration, &field);
    registrar->add_option(registration, &subscribe);
    return TAWON_RC_OK;
}

static tawon_rc events_create(const tawon_host_api *host, tawon_host_context *context,
                              const tawon_option_value *const *options, uint32_t count,
                              tawon_instance **out)
{
    events_instance *instance = calloc(1, sizeof *instance);
    if (!instance)
        return TAWON_RC_NO_MEMORY;
    *out = (tawon_instance *)instance;
    instance->host = host;
    instance->context = context;
    if (!TAWON_HAS_FIELD(host, tawon_host_api, last_error)) {
        snprintf(instance->error, sizeof instance->error, "this host is older than ABI 1.1");
        return TAWON_RC_UNSUPPORTED;
    }
    const char *text = count > 0 ? options[0]->text : "";
    while (*text) {
        char *end = NULL;
        long long kind = strtoll(text, &end, 10);
        if (*end != ':')
            break;
        uint64_t id = strtoull(end + 1, &end, 10);
        tawon_rc rc = host->subscribe(context, (tawon_event_kind)kind, id);
        if (rc != TAWON_RC_OK) {
            snprintf(instance->error, sizeof instance->error, "%s", host->last_error(context));
            return TAWON_RC_INVALID_ARGUMENT;
        }
        text = *end == '+' ? end + 1 : end;
    }
    return TAWON_RC_OK;
}

static const char *events_last_error(tawon_instance *instance)
{
    return instance ? ((events_instance *)instance)->error : "";
}

static tawon_rc events_start(tawon_instance *instance) { (void)instance; return TAWON_RC_OK; }

static tawon_rc events_on_event(tawon_instance *opaque, const tawon_event *event)
{
    events_instance *instance = (events_instance *)opaque;
    char json[2048];
    int length = snprintf(json, sizeof json, "{\"event\":\"%s\",\"kind\":%d,\"phase\":%d,\"pid\":%" PRIu32 ",\"args\":{",
                          event->function_name, (int)event->kind, (int)event->phase, event->pid);
    for (uint32_t i = 0; i < event->arg_count && length < (int)sizeof json - 600; i++) {
        const tawon_event_arg *arg = event->args[i];
        if (arg->kind == TAWON_VALUE_TEXT)
            length += snprintf(json + length, sizeof json - length, "%s\"%s\":\"%.500s\"", i ? "," : "", arg->name, arg->text);
        else
            length += snprintf(json + length, sizeof json - length, "%s\"%s\":%" PRId64, i ? "," : "", arg->name, (int64_t)arg->value);
    }
    length += snprintf(json + length, sizeof json - length, "}}");
    tawon_record record = {sizeof record, json, (uint32_t)length, event->timestamp_ns};
    return instance->host->emit(instance->context, &record);
}

static tawon_rc events_stop(tawon_instance *instance) { (void)instance; return TAWON_RC_OK; }
static void events_destroy(tawon_instance *instance) { free(instance); }

TAWON_TASK_EXPORT const tawon_task_descriptor *tawon_task_entry(void)
{
    static const tawon_task_descriptor descriptor = {
        sizeof descriptor, TAWON_TASK_ABI_MAJOR, TAWON_TASK_ABI_MINOR, TAWON_TASK_ABI_PATCH,
        events_describe, events_create, events_last_error, events_start,
        events_on_event, events_stop, events_destroy,
    };
    return &descriptor;
}
