/*
 * tawon_task.h — the tawon task ABI, version 1.1.
 *
 * This header is the whole contract between the tawon host (tawond, `tawonctl run`) and a task
 * plugin: a shared object that the host loads with dlopen(RTLD_NOW | RTLD_LOCAL). A task author
 * needs nothing else. It is plain C11; any language that can export a C function can implement it.
 *
 * ---------------------------------------------------------------------------------------------
 * How a task plugs in
 * ---------------------------------------------------------------------------------------------
 *  1. The plugin exports one symbol, `tawon_task_entry` (see TAWON_TASK_ENTRY_SYMBOL). The host
 *     looks it up with dlsym and calls it once; it returns a pointer to a static
 *     tawon_task_descriptor.
 *  2. The host checks the descriptor's ABI version (see "Versioning"), then calls `describe`,
 *     in which the task registers what it is: its name, version and description; its functions;
 *     its capability sets; its output schema; its options. The host validates all of it and
 *     refuses the plugin with a one-line reason if anything is wrong.
 *  3. For every directive that names the task, the host parses the directive's options against
 *     the registered ones and calls `create`, then `start`; it delivers matching events to
 *     `on_event`; when the directive goes away it calls `stop`, then `destroy`.
 *  4. What events an instance gets is what it asked for in `create` or `start`: a hooked function
 *     (hook_function: a syscall, at its entry) or, since 1.1, an event kind and id (subscribe:
 *     process exec and exit; since 1.2, containers created and removed). Events reach it only
 *     for processes (and containers) the directive's condition selects. A request the host
 *     cannot honour is refused with a reason, never ignored.
 *
 * A file is found by the host when it is named `libtawon-task-<anything>.so` and lies in one of
 * the host's task directories (the directory of the running executable, the configured
 * directories, then the colon-separated entries of TAWON_TASK_PATH; an entry there may also
 * name one file directly). When the host runs as root it refuses a file, or a directory holding
 * it, that is not owned by root or is writable by group or others.
 *
 * ---------------------------------------------------------------------------------------------
 * Versioning
 * ---------------------------------------------------------------------------------------------
 * Semantic versioning of the ABI itself. The host refuses a plugin built for another MAJOR
 * version, and a plugin whose declared MINOR is newer than the host's. Within one major version
 * structs only ever grow at their end, and every struct that crosses the boundary starts with
 * `uint32_t struct_size`, set by whoever fills the struct to sizeof() as it was compiled. The
 * reader of a struct uses only the fields that lie inside the struct_size it was given
 * (TAWON_HAS_FIELD tells). The first four fields of tawon_task_descriptor are frozen across all
 * major versions, so that any host can read which version a plugin was built for.
 *
 * The host keeps the same rule: it accepts every struct a task passes that is at least as large
 * as in 1.0 and reads only what its struct_size covers; where it fills a struct for the task
 * (process_info, process_field) it writes no more than the task's struct_size and sets
 * struct_size to what it filled. A plugin built against 1.0 runs unchanged on a 1.1 host.
 *
 * What 1.1 added is marked "Since 1.1" below: event kinds and phases (tawon_event's last fields),
 * subscribe, process_field and last_error in tawon_host_api. A plugin that uses them declares
 * minor 1 (TAWON_TASK_ABI_MINOR), and a 1.0 host refuses it with both versions named. What 1.2
 * added is marked "Since 1.2": the container event kind. A plugin that subscribes to it declares
 * minor 2; one that does not may keep declaring 1 and run on a 1.1 host.
 *
 * ---------------------------------------------------------------------------------------------
 * Memory ownership (the one rule for the whole ABI)
 * ---------------------------------------------------------------------------------------------
 *  - What one side passes to the other is BORROWED for the duration of that call only. The
 *    receiver copies whatever it wants to keep. This covers every struct, string and array in
 *    either direction: registrations, records, log messages, events, option values, process
 *    information.
 *  - Exceptions: the descriptor returned by tawon_task_entry lives until the library is unloaded
 *    (make it static); the tawon_host_api table and the tawon_host_context passed to `create`
 *    live until `destroy` returns; the string returned by `last_error` lives until the next call
 *    into the task with that instance; the strings process_info fills in live until the next
 *    process_info call on the same thread.
 *  - Neither side ever frees memory the other side allocated.
 *  - Strings are UTF-8 and NUL-terminated unless a length travels with them.
 *  - Only C types cross the boundary. A plugin written in Swift, Rust, Go... keeps its runtime to
 *    itself and never hands the host one of its objects except as an opaque tawon_instance.
 *
 * ---------------------------------------------------------------------------------------------
 * Threads
 * ---------------------------------------------------------------------------------------------
 * The host never calls into one instance from two threads at once: create, start, on_event,
 * stop, destroy and last_error of one instance are serialized. Different instances may be called
 * concurrently. The functions of tawon_host_api are thread-safe and may be called from any thread
 * (including threads the task starts) between `create` and the return of `destroy`.
 */
#ifndef TAWON_TASK_H
#define TAWON_TASK_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Version ------------------------------------------------------------------------------ */

#define TAWON_TASK_ABI_MAJOR 1
#define TAWON_TASK_ABI_MINOR 2
#define TAWON_TASK_ABI_PATCH 0

/* The one symbol the host looks up. */
#define TAWON_TASK_ENTRY_SYMBOL "tawon_task_entry"

/* Marks the entry point as exported even when the plugin is built with -fvisibility=hidden. */
#if defined(__GNUC__) || defined(__clang__)
#define TAWON_TASK_EXPORT __attribute__((visibility("default")))
#else
#define TAWON_TASK_EXPORT
#endif

/* True when `ptr` (a struct starting with struct_size) was filled far enough to hold `field`. */
#define TAWON_HAS_FIELD(ptr, type, field) \
    ((ptr)->struct_size >= offsetof(type, field) + sizeof(((type *)0)->field))

/* ---- Return codes ------------------------------------------------------------------------- */

/* Every fallible call returns one of these. Values never change meaning; new ones are added. */
typedef int32_t tawon_rc;
enum {
    TAWON_RC_OK = 0,
    TAWON_RC_FAILURE = 1,          /* generic failure; details in last_error / the log */
    TAWON_RC_INVALID_ARGUMENT = 2, /* a NULL where a value was needed, a bad option value... */
    TAWON_RC_NOT_FOUND = 3,        /* e.g. process_info for a pid the host does not know */
    TAWON_RC_NO_MEMORY = 4,
    TAWON_RC_UNSUPPORTED = 5,      /* asked for something this host or task does not do */
    TAWON_RC_WRONG_TIME = 6,       /* called outside the lifecycle phase it belongs to */
};

/* ---- Small enumerations ------------------------------------------------------------------- */

typedef int32_t tawon_log_level;
enum {
    TAWON_LOG_TRACE = 0,
    TAWON_LOG_DEBUG = 1,
    TAWON_LOG_INFO = 2,
    TAWON_LOG_NOTICE = 3,
    TAWON_LOG_WARNING = 4,
    TAWON_LOG_ERROR = 5,
    TAWON_LOG_CRITICAL = 6,
};

/* The type of a task option. The host parses the directive's text into this type. */
typedef int32_t tawon_option_type;
enum {
    TAWON_OPTION_STRING = 1, /* any text */
    TAWON_OPTION_BOOL = 2,   /* true/false (any case) */
    TAWON_OPTION_INT64 = 3,  /* a decimal integer */
};

/* How to read a decoded event argument. */
typedef int32_t tawon_value_kind;
enum {
    TAWON_VALUE_SIGNED = 1,   /* `value` is an int64_t stored in a uint64_t */
    TAWON_VALUE_UNSIGNED = 2, /* `value` is a uint64_t (addresses, sizes, masks) */
    TAWON_VALUE_TEXT = 3,     /* `text` holds the decoded rendering: a path, a buffer, flags */
};

/* Since 1.1. What an event is: tawon_event.kind, and the kind a task subscribes to. */
typedef int32_t tawon_event_kind;
enum {
    TAWON_EVENT_SYSCALL = 1, /* a hooked function; the id is the function's registered id */
    TAWON_EVENT_PROCESS = 2, /* a process lifecycle event; the id is a TAWON_PROCESS_* value */
    TAWON_EVENT_CONTAINER = 3, /* since 1.2: a container lifecycle event; a TAWON_CONTAINER_* id */
};

/* Since 1.1. The ids of TAWON_EVENT_PROCESS events, and the arguments each carries. */
enum {
    TAWON_PROCESS_EXEC = 1, /* the process runs a new program. Arguments: "exe" (TEXT, the file
                               executed), "argv" (TEXT, the command line joined by spaces) */
    TAWON_PROCESS_EXIT = 2, /* the process (all its threads) ended. Arguments: "exit_code"
                               (SIGNED, 0-255), "signal" (SIGNED, the killing signal or 0) */
};

/*
 * Since 1.2. The ids of TAWON_EVENT_CONTAINER events, and the arguments each carries (TEXT unless
 * said). The event's function_name is the name in quotes below; pid, tid and comm are those of
 * the process that made or removed the container's cgroup (a runtime's); for init_namespaces,
 * pid 1's; for existing_container 0 and "". A directive's condition selects such an event by the
 * container it is about (container.*, pod.*) and that process (process.*); capabilities are not
 * known for it. container_name is as the runtime's API gives it (Docker's keeps a leading "/").
 * The container's name, image and pod come from its runtime: the event waits (up to 5 s) until
 * the runtime has described the container, and carries "" where it could not.
 */
enum {
    TAWON_CONTAINER_INIT_NAMESPACES = 1, /* "init_namespaces", once when the directive starts:
                                            the namespaces of the host's init process (pid 1),
                                            to tell a container's from the host's. Arguments
                                            (UNSIGNED, inode numbers; 0 where the kernel has no
                                            such namespace): "cgroup", "ipc", "mnt", "net",
                                            "pid", "pid_for_children", "time",
                                            "time_for_children", "user", "uts" */
    TAWON_CONTAINER_EXISTING = 2,        /* "existing_container", once per container running
                                            when the directive starts, oldest first. Arguments
                                            as TAWON_CONTAINER_CREATE */
    TAWON_CONTAINER_CREATE = 3,          /* "container_create": a container's cgroup was made.
                                            Arguments: "runtime" ("docker", "podman",
                                            "containerd", "crio", or "" when the cgroup's name
                                            does not say), "container_id" (64 hex digits),
                                            "ctime" (UNSIGNED: when its cgroup was made, ns since
                                            the Unix epoch), "container_image",
                                            "container_name", "pod_name", "pod_namespace",
                                            "pod_uid" */
    TAWON_CONTAINER_REMOVE = 4,          /* "container_remove": its cgroup was removed.
                                            Arguments: "runtime", "container_id" */
};

/* Since 1.1. Which moment of a call an event reports: tawon_event.phase. */
typedef int32_t tawon_event_phase;
enum {
    TAWON_PHASE_NONE = 0,  /* not a call: process lifecycle events */
    TAWON_PHASE_ENTRY = 1, /* the call began: arguments as the caller passed them */
    TAWON_PHASE_EXIT = 2,  /* the call returned: return_value holds its result */
};

/* Since 1.1. The type of a process field's value (tawon_field_value.type). */
typedef int32_t tawon_field_type;
enum {
    TAWON_FIELD_STRING = 1, /* text is the value */
    TAWON_FIELD_UINT64 = 2, /* number is the value; text its decimal rendering */
    TAWON_FIELD_INT64 = 3,  /* number holds an int64_t; text its decimal rendering */
    TAWON_FIELD_JSON = 4,   /* a map or a list: text is its JSON (an object or an array) */
};

/* ---- Opaque handles ----------------------------------------------------------------------- */

typedef struct tawon_registration tawon_registration; /* host-owned; valid during describe */
typedef struct tawon_host_context tawon_host_context; /* host-owned; one per instance */
typedef struct tawon_instance tawon_instance;         /* task-owned; whatever the task likes */

/* ---- What a task registers ---------------------------------------------------------------- */

typedef struct tawon_task_info {
    uint32_t struct_size;
    const char *name;        /* Required. Unique among loaded tasks; [a-z0-9_-]+ */
    const char *version;     /* Required. The task's own version, e.g. "1.2.0" */
    const char *description; /* Required. One sentence. */
} tawon_task_info;

/*
 * A function the task can hook: for tasks built on syscalls, a syscall with its number as `id`.
 * Argument i is described by argument_names[i] and argument_types[i] (a C type as the kernel
 * declares it, e.g. "const char *"). Both arrays have argument_count entries (at most 6).
 */
typedef struct tawon_function {
    uint32_t struct_size;
    const char *name; /* Required. Unique within the task. */
    uint64_t id;      /* Required. Unique within the task. For syscalls: the x86_64 number. */
    const char *const *argument_names;
    const char *const *argument_types;
    uint32_t argument_count;
} tawon_function;

/*
 * A named set of functions, e.g. "CAP_NET_RAW" -> socket, sendto, ...: a shorthand users can
 * name in an option instead of listing functions. Every function named must be registered.
 */
typedef struct tawon_capability_set {
    uint32_t struct_size;
    const char *name; /* Required. Unique within the task. */
    const char *description;
    const char *const *function_names;
    uint32_t function_count;
} tawon_capability_set;

/*
 * One field of the records the task emits, by dotted path ("syscall.process.pid").
 * `type` is one of: string, bool, int32, int64, uint32, uint64, double, bytes, timestamp, map,
 * list; or several of them joined by '|' when the field may hold either ("string|uint64").
 */
typedef struct tawon_output_field {
    uint32_t struct_size;
    const char *name;        /* Required. Unique within the task. */
    const char *type;        /* Required. */
    const char *description; /* Required. */
} tawon_output_field;

/* An option a directive may set for the task: `-t "task|name:value;name:value"`. */
typedef struct tawon_option {
    uint32_t struct_size;
    const char *name;          /* Required. Unique within the task. */
    tawon_option_type type;    /* Required. */
    const char *default_value; /* Text of the default, parsed like a given value; NULL: none. */
    const char *description;   /* Required. */
} tawon_option;

/*
 * The registration functions the host hands to `describe`. Each copies what it is given and
 * returns TAWON_RC_OK, or TAWON_RC_INVALID_ARGUMENT for a NULL or malformed struct. Semantic
 * checks (unique names, known types, capability sets naming registered functions) are done by
 * the host after `describe` returns; a failure there refuses the whole plugin with a reason.
 */
typedef struct tawon_registrar {
    uint32_t struct_size;
    tawon_rc (*set_info)(tawon_registration *registration, const tawon_task_info *info);
    tawon_rc (*add_function)(tawon_registration *registration, const tawon_function *function);
    tawon_rc (*add_capability_set)(tawon_registration *registration,
                                   const tawon_capability_set *set);
    tawon_rc (*add_output_field)(tawon_registration *registration,
                                 const tawon_output_field *field);
    tawon_rc (*add_option)(tawon_registration *registration, const tawon_option *option);
} tawon_registrar;

/* ---- What the host hands a task ----------------------------------------------------------- */

/* One option of a directive, after parsing. Options the directive did not set carry defaults. */
typedef struct tawon_option_value {
    uint32_t struct_size;
    const char *name;
    tawon_option_type type;
    uint32_t is_set;   /* 1: given in the directive; 0: the registered default */
    const char *text;  /* the value as text (given or default); never NULL */
    int64_t int_value; /* for TAWON_OPTION_INT64 */
    uint32_t bool_value; /* for TAWON_OPTION_BOOL: 0 or 1 */
} tawon_option_value;

/* One argument of an event, decoded by the host from the function's registered metadata. */
typedef struct tawon_event_arg {
    uint32_t struct_size;
    const char *name;       /* as registered */
    const char *type;       /* as registered */
    tawon_value_kind kind;  /* how to read this argument */
    uint64_t value;         /* SIGNED: the int64_t value, sign-extended from the C type's width;
                               UNSIGNED: the value, zero-extended; TEXT: the raw register */
    const char *text;       /* TEXT: decoded rendering, escaped, never NULL; otherwise NULL */
    uint32_t text_length;   /* bytes in text, without the NUL */
    uint32_t truncated;     /* 1 when the captured memory was cut short */
} tawon_event_arg;

/* One event: a hooked function called by a process a directive selected. */
typedef struct tawon_event {
    uint32_t struct_size;
    uint64_t timestamp_ns;      /* wall clock, nanoseconds since the Unix epoch */
    uint32_t cpu;
    uint32_t pid;               /* thread-group id, as `ps` shows it */
    uint32_t tid;               /* thread id */
    uint32_t compat;            /* 1: the caller is a 32-bit task; `function_id` is its number */
    uint64_t function_id;       /* the registered id */
    const char *function_name;  /* the registered name */
    const char *comm;           /* the kernel's short task name */
    const char *directive_id;   /* the directive this delivery is for */
    const tawon_event_arg *const *args;
    uint32_t arg_count;
    /*
     * Changes whenever the host's information about `pid` changes (a new process with that
     * pid, an exec). A task may cache what it derived from process_info per
     * (pid, process_generation) and skip the lookup while it stays the same.
     */
    uint64_t process_generation;

    /* Since 1.1 (a 1.0 task never reads them; check with TAWON_HAS_FIELD). */
    tawon_event_kind kind;   /* TAWON_EVENT_SYSCALL, _PROCESS or _CONTAINER; for PROCESS events
                                function_id is the TAWON_PROCESS_* id and function_name "exec" or
                                "exit"; for CONTAINER events the TAWON_CONTAINER_* id and its
                                name */
    tawon_event_phase phase; /* SYSCALL: ENTRY or EXIT (see subscribe); PROCESS, CONTAINER: NONE */
    int64_t return_value;    /* phase EXIT: the call's result (a negative errno on failure) */
    uint32_t has_return_value; /* 1 when return_value holds a result */
    uint64_t call_id;        /* a call that blocked past the host's deadline comes in two events,
                                ENTRY then EXIT, that carry the same call_id; 0 for a call
                                reported in one event */
} tawon_event;

/* Process information, as the host's process table knows it. Empty strings where unknown. */
typedef struct tawon_process_info {
    uint32_t struct_size; /* in: sizeof as the task knows it; out: how much the host filled */
    uint32_t pid;
    uint32_t ppid;
    const char *name;
    const char *cmd;            /* command line, arguments joined by spaces */
    const char *exe;            /* executable path */
    const char *ns;             /* mount namespace as "{device ID}-{inode number}" */
    int64_t started_at_ns;      /* wall clock, nanoseconds since the Unix epoch */
    const char *container_id;   /* "" when not in a container */
    const char *container_name; /* "" when unknown */
    uint64_t generation;        /* as tawon_event.process_generation */
} tawon_process_info;

/*
 * Since 1.1. One process fact, asked for by its dotted name with process_field:
 *   process.pid, process.ppid (UINT64); process.name, process.cmd, process.exe, process.ns
 *   (STRING); process.startedAt (INT64, ns since the epoch); container.id, container.name,
 *   pod.id, pod.name, pod.namespace (STRING); container.labels, pod.labels (JSON objects).
 * Facts no source has supplied are empty strings or empty objects. New facts are new names:
 * the struct does not change.
 */
typedef struct tawon_field_value {
    uint32_t struct_size;  /* in: sizeof as the task knows it; out: how much the host filled */
    tawon_field_type type;
    const char *text;      /* the value as text (see tawon_field_type); never NULL */
    uint32_t text_length;  /* bytes in text, without the NUL */
    uint64_t number;       /* UINT64 and INT64: the value */
} tawon_field_value;

/* A record the task emits: one JSON object shaped by its registered output schema. */
typedef struct tawon_record {
    uint32_t struct_size;
    const char *json;      /* Required. A JSON object, UTF-8. */
    uint32_t json_length;  /* bytes in json */
    uint64_t timestamp_ns; /* when it happened (ns since the epoch); 0: now */
} tawon_record;

/*
 * The services the host offers an instance. Every function takes the tawon_host_context that
 * `create` was given.
 */
typedef struct tawon_host_api {
    uint32_t struct_size;
    uint32_t abi_major; /* the host's ABI version */
    uint32_t abi_minor;
    uint32_t abi_patch;

    /* Write one line to the host's log, tagged with the task and directive. */
    void (*log)(tawon_host_context *context, tawon_log_level level, const char *message);

    /*
     * Publish one record. The host wraps it in its envelope (source, directive, timestamp) and
     * sends it to every output of the directive.
     * Return: OK; INVALID_ARGUMENT if `json` is not one JSON object.
     */
    tawon_rc (*emit)(tawon_host_context *context, const tawon_record *record);

    /*
     * Look up a process. Set out->struct_size = sizeof(tawon_process_info) first. The strings
     * are owned by the host and valid until the next process_info call on the same thread.
     * Return: OK; NOT_FOUND when the host does not know the pid.
     */
    tawon_rc (*process_info)(tawon_host_context *context, uint32_t pid, tawon_process_info *out);

    /*
     * Ask for events of one registered function, at its entry. Call it in `create` or `start`;
     * the host hooks the function in the kernel while some instance wants it. Same as
     * subscribe(context, TAWON_EVENT_SYSCALL, function_id).
     * Return: OK; NOT_FOUND for an id the task did not register; UNSUPPORTED for an id that is
     *         no syscall number this host can hook (before 1.1 such an id was accepted and
     *         never delivered); WRONG_TIME after `start` has returned.
     */
    tawon_rc (*hook_function)(tawon_host_context *context, uint64_t function_id);

    /* ---- Since 1.1: check TAWON_HAS_FIELD(host, tawon_host_api, last_error) first. ---- */

    /*
     * Ask for events of a kind, in `create` or `start`:
     *  - TAWON_EVENT_SYSCALL with a registered function id: each call as a whole, once it has
     *    returned: one event of phase EXIT with its arguments (memory read at entry, or at exit
     *    where it was not paged in yet, and what the call wrote: read's data, stat's struct...)
     *    and its return value. A call still blocked after the host's deadline (1 s by default)
     *    comes as an ENTRY event with a call_id, and its EXIT event follows with the same
     *    call_id when it returns; calls that never return (exit, a successful execve's old
     *    image) come as ENTRY events. hook_function gives ENTRY events only, at once.
     *  - TAWON_EVENT_PROCESS with TAWON_PROCESS_EXEC or TAWON_PROCESS_EXIT.
     *  - Since 1.2: TAWON_EVENT_CONTAINER with a TAWON_CONTAINER_* id.
     * Return: OK; NOT_FOUND for a function id the task did not register; UNSUPPORTED for a kind
     *         or an id this host cannot deliver; WRONG_TIME after `start` has returned. Why, in
     *         last_error.
     */
    tawon_rc (*subscribe)(tawon_host_context *context, tawon_event_kind kind, uint64_t id);

    /*
     * Look up one fact about a process by its dotted name (see tawon_field_value). Set
     * out->struct_size = sizeof(tawon_field_value) first. The text is owned by the host and
     * valid until the next process_field or process_info call on the same thread.
     * Return: OK; NOT_FOUND for a pid the host does not know or a name it does not know (why,
     *         in last_error); INVALID_ARGUMENT for a NULL name or out.
     */
    tawon_rc (*process_field)(tawon_host_context *context, uint32_t pid, const char *name,
                              tawon_field_value *out);

    /*
     * Why the most recent failed host call made with this context on this thread failed, in
     * one line; "" when none has. Valid until the next host call on this thread.
     */
    const char *(*last_error)(tawon_host_context *context);
} tawon_host_api;

/* ---- The descriptor ----------------------------------------------------------------------- */

typedef struct tawon_task_descriptor {
    /* These four fields are frozen across every major version of the ABI. */
    uint32_t struct_size; /* sizeof(tawon_task_descriptor) */
    uint32_t abi_major;   /* TAWON_TASK_ABI_MAJOR the plugin was built with */
    uint32_t abi_minor;   /* the lowest host minor the plugin needs; usually TAWON_TASK_ABI_MINOR */
    uint32_t abi_patch;

    /*
     * describe — Required.
     * Register the task through `registrar`: set_info exactly once, then its functions,
     * capability sets, output fields and options. Called once, before anything else.
     * Arguments: registration: opaque, pass it back to each registrar function;
     *            registrar: the registration functions (borrowed for this call).
     * Return: OK, or any other code to refuse loading (the host logs last_error(NULL)).
     */
    tawon_rc (*describe)(tawon_registration *registration, const tawon_registrar *registrar);

    /*
     * create — Required.
     * Make an instance for one directive from its parsed options. Hook functions here with
     * host->hook_function (or subscribe, since 1.1), or in `start`. Must set *out_instance whenever it can allocate one, even when it
     * fails: the host then reads last_error(instance) and calls destroy(instance).
     * Arguments: host: services (valid until destroy returns);
     *            context: pass to every host function (valid until destroy returns);
     *            options: every registered option (set or default), option_count of them.
     * Return: OK; INVALID_ARGUMENT for an option value the task cannot use (say why in
     *         last_error: the directive is refused with that text).
     */
    tawon_rc (*create)(const tawon_host_api *host, tawon_host_context *context,
                       const tawon_option_value *const *options, uint32_t option_count,
                       tawon_instance **out_instance);

    /*
     * last_error — Required.
     * The reason the last failed call on `instance` failed, or on loading when instance is NULL.
     * Return: a string owned by the task, valid until the next call with this instance; may be
     *         NULL or "" when there is nothing to say.
     */
    const char *(*last_error)(tawon_instance *instance);

    /*
     * start — Required.
     * Begin work (start background threads, open files). It may still hook functions and
     * subscribe; once it returns, the instance's events are fixed. Events may arrive once it
     * returns OK.
     * Return: OK, or a failure code with the reason in last_error; the host then calls destroy.
     */
    tawon_rc (*start)(tawon_instance *instance);

    /*
     * on_event — Required.
     * Handle one event the instance asked for; typically emit a record with host->emit. A
     * record emitted here, on the calling thread, is tied to this event (the host shows it in
     * compact output).
     * Must return quickly: it runs on the host's event path.
     * Arguments: event: borrowed for this call.
     * Return: OK; a failure is counted and logged, and delivery goes on.
     */
    tawon_rc (*on_event)(tawon_instance *instance, const tawon_event *event);

    /*
     * stop — Required.
     * Stop work; no events arrive after it is called. Stop threads the task started.
     * Return: OK, or a failure code (logged; destroy is called regardless).
     */
    tawon_rc (*stop)(tawon_instance *instance);

    /*
     * destroy — Required.
     * Free the instance. Called exactly once per instance that create produced.
     */
    void (*destroy)(tawon_instance *instance);
} tawon_task_descriptor;

/*
 * tawon_task_entry — Required; the only exported symbol.
 * Return: a pointer to the plugin's descriptor, valid until the library is unloaded. The host
 *         calls it once per load, before anything else.
 */
TAWON_TASK_EXPORT const tawon_task_descriptor *tawon_task_entry(void);

#ifdef __cplusplus
}
#endif

#endif /* TAWON_TASK_H */
