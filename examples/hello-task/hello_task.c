/*
 * hello-task: the smallest useful tawon task, in plain C.
 * It hooks getppid and emits {"hello": {"pid": P, "comm": "...", "greeting": "..."}} per call.
 *
 *   cc -shared -fPIC -fvisibility=hidden -I ../../Sources/TaskABI/include \
 *      -o libtawon-task-hello.so hello_task.c
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tawon_task.h"

#define GETPPID_ID 110 /* x86_64 syscall number */

struct tawon_instance {
    const tawon_host_api *host;
    tawon_host_context *context;
    char greeting[64];
    char error[128];
};

static const char *const no_arguments[] = {NULL};

static tawon_rc hello_describe(tawon_registration *registration, const tawon_registrar *registrar)
{
    tawon_task_info info = {sizeof info, "hello", "1.0.0", "Greets every getppid call."};
    tawon_function getppid_function = {sizeof getppid_function, "getppid", GETPPID_ID,
                                       no_arguments, no_arguments, 0};
    const char *const set_functions[] = {"getppid"};
    tawon_capability_set set = {sizeof set, "FAMILY", "Asking for one's parent", set_functions, 1};
    tawon_output_field fields[] = {
        {sizeof fields[0], "hello", "map", "One greeting."},
        {sizeof fields[0], "hello.pid", "uint32", "Who called getppid."},
        {sizeof fields[0], "hello.comm", "string", "Its short name."},
        {sizeof fields[0], "hello.greeting", "string", "The greeting option."},
    };
    tawon_option greeting = {sizeof greeting, "greeting", TAWON_OPTION_STRING, "hello",
                             "What to say."};

    tawon_rc rc = registrar->set_info(registration, &info);
    if (rc == TAWON_RC_OK) rc = registrar->add_function(registration, &getppid_function);
    if (rc == TAWON_RC_OK) rc = registrar->add_capability_set(registration, &set);
    for (size_t i = 0; rc == TAWON_RC_OK && i < sizeof fields / sizeof fields[0]; i++)
        rc = registrar->add_output_field(registration, &fields[i]);
    if (rc == TAWON_RC_OK) rc = registrar->add_option(registration, &greeting);
    return rc;
}

static tawon_rc hello_create(const tawon_host_api *host, tawon_host_context *context,
                             const tawon_option_value *const *options, uint32_t option_count,
                             tawon_instance **out_instance)
{
    tawon_instance *instance = calloc(1, sizeof *instance);
    *out_instance = instance;
    if (!instance) return TAWON_RC_NO_MEMORY;
    instance->host = host;
    instance->context = context;
    for (uint32_t i = 0; i < option_count; i++)
        if (strcmp(options[i]->name, "greeting") == 0)
            snprintf(instance->greeting, sizeof instance->greeting, "%s", options[i]->text);
    if (strchr(instance->greeting, '"') || strchr(instance->greeting, '\\')) {
        snprintf(instance->error, sizeof instance->error, "greeting: no quotes or backslashes");
        return TAWON_RC_INVALID_ARGUMENT;
    }
    return host->hook_function(context, GETPPID_ID);
}

static const char *hello_last_error(tawon_instance *instance)
{
    return instance ? instance->error : "";
}

static tawon_rc hello_start(tawon_instance *instance)
{
    instance->host->log(instance->context, TAWON_LOG_INFO, "hello task started");
    return TAWON_RC_OK;
}

static tawon_rc hello_on_event(tawon_instance *instance, const tawon_event *event)
{
    char json[256];
    int length = snprintf(json, sizeof json,
                          "{\"hello\":{\"pid\":%u,\"comm\":\"%s\",\"greeting\":\"%s\"}}",
                          event->pid, event->comm, instance->greeting);
    if (length < 0 || (size_t)length >= sizeof json) return TAWON_RC_FAILURE;
    tawon_record record = {sizeof record, json, (uint32_t)length, event->timestamp_ns};
    return instance->host->emit(instance->context, &record);
}

static tawon_rc hello_stop(tawon_instance *instance)
{
    (void)instance;
    return TAWON_RC_OK;
}

static void hello_destroy(tawon_instance *instance)
{
    free(instance);
}

TAWON_TASK_EXPORT const tawon_task_descriptor *tawon_task_entry(void)
{
    static const tawon_task_descriptor descriptor = {
        sizeof descriptor, TAWON_TASK_ABI_MAJOR, TAWON_TASK_ABI_MINOR, TAWON_TASK_ABI_PATCH,
        hello_describe, hello_create, hello_last_error, hello_start, hello_on_event, hello_stop,
        hello_destroy,
    };
    return &descriptor;
}
