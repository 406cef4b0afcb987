/* Bus replies as JSON, for winvmctl's --json output and its tables. */
#include <errno.h>
#include <json-glib/json-glib.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "util.h"

/* Adds a JSON object member per entry of a dictionary with string keys (the reader is inside
 * the array); contents is the array's element signature, e.g. "{sv}". */
static int dict_entries_to_json(sd_bus_message *m, const char *contents, JsonBuilder *b) {
        size_t len = strlen(contents);
        if (len < 4 || contents[0] != '{' || contents[len - 1] != '}')
                return -EBADMSG;
        _cleanup_free_ char *entry = strndup(contents + 1, len - 2);
        if (!entry)
                return -ENOMEM;
        char key_type = entry[0];

        int r;
        while ((r = sd_bus_message_enter_container(m, 'e', entry)) > 0) {
                const char *key;
                if ((r = sd_bus_message_read_basic(m, key_type, &key)) < 0)
                        return r;
                json_builder_set_member_name(b, key);
                if ((r = client_bus_value_to_json(m, b)) < 0)
                        return r;
                if ((r = sd_bus_message_exit_container(m)) < 0)
                        return r;
        }
        return r;
}

/* Adds the values from the reader's position to the end of the container it is in as a JSON
 * array. Negative errno when they do not read. */
static int values_to_json_array(sd_bus_message *m, JsonBuilder *b) {
        int r = 0;
        json_builder_begin_array(b);
        while (r >= 0 && (r = sd_bus_message_at_end(m, false)) == 0)
                r = client_bus_value_to_json(m, b);
        json_builder_end_array(b);
        return r;
}

int client_bus_value_to_json(sd_bus_message *m, JsonBuilder *b) {
        const char *contents;
        char type;
        int r = sd_bus_message_peek_type(m, &type, &contents);
        if (r == 0)
                r = -EBADMSG; /* nothing left where a value was expected */
        if (r < 0)
                return r;

        switch (type) {
        case SD_BUS_TYPE_STRING:
        case SD_BUS_TYPE_OBJECT_PATH:
        case SD_BUS_TYPE_SIGNATURE: {
                const char *v;
                if ((r = sd_bus_message_read_basic(m, type, &v)) >= 0)
                        json_builder_add_string_value(b, v);
                return r;
        }
        case SD_BUS_TYPE_BOOLEAN: {
                int v;
                if ((r = sd_bus_message_read_basic(m, type, &v)) >= 0)
                        json_builder_add_boolean_value(b, v);
                return r;
        }
        case SD_BUS_TYPE_DOUBLE: {
                double v;
                if ((r = sd_bus_message_read_basic(m, type, &v)) >= 0)
                        json_builder_add_double_value(b, v);
                return r;
        }
        case SD_BUS_TYPE_BYTE:
        case SD_BUS_TYPE_INT16:
        case SD_BUS_TYPE_UINT16:
        case SD_BUS_TYPE_INT32:
        case SD_BUS_TYPE_UINT32:
        case SD_BUS_TYPE_INT64:
        case SD_BUS_TYPE_UINT64: {
                union {
                        uint8_t y;
                        int16_t n;
                        uint16_t q;
                        int32_t i;
                        uint32_t u;
                        int64_t x;
                        uint64_t t;
                } v;
                if ((r = sd_bus_message_read_basic(m, type, &v)) < 0)
                        return r;
                gint64 n = type == 'y' ? v.y : type == 'n' ? v.n : type == 'q' ? v.q : type == 'i' ? v.i
                         : type == 'u' ? v.u : type == 'x' ? v.x : (gint64) v.t;
                json_builder_add_int_value(b, n);
                return r;
        }
        case SD_BUS_TYPE_VARIANT:
                if ((r = sd_bus_message_enter_container(m, type, contents)) < 0 ||
                    (r = client_bus_value_to_json(m, b)) < 0)
                        return r;
                return sd_bus_message_exit_container(m);
        case SD_BUS_TYPE_ARRAY:
                if ((r = sd_bus_message_enter_container(m, type, contents)) < 0)
                        return r;
                if (contents[0] == '{' && contents[1] && strchr("sog", contents[1])) {
                        json_builder_begin_object(b);
                        r = dict_entries_to_json(m, contents, b);
                        json_builder_end_object(b);
                } else
                        r = values_to_json_array(m, b);
                if (r < 0)
                        return r;
                return sd_bus_message_exit_container(m);
        case SD_BUS_TYPE_STRUCT:
        case SD_BUS_TYPE_DICT_ENTRY: /* of a dictionary with other than string keys: [key, value] */
                if ((r = sd_bus_message_enter_container(m, type, contents)) < 0)
                        return r;
                if ((r = values_to_json_array(m, b)) < 0)
                        return r;
                return sd_bus_message_exit_container(m);
        default:
                /* File descriptors: nothing JSON can say. */
                if ((r = sd_bus_message_skip(m, (char[]) { type, 0 })) < 0)
                        return r;
                json_builder_add_null_value(b);
                return r;
        }
}

int client_dict_to_json(sd_bus_message *reply, JsonBuilder *b) {
        return dict_entries_to_json(reply, "{sv}", b);
}

void client_print_json(void *node) {
        g_autoptr(JsonGenerator) gen = json_generator_new();
        json_generator_set_root(gen, node);
        json_generator_set_pretty(gen, true);
        g_autofree char *text = json_generator_to_data(gen, NULL);
        printf("%s\n", text);
        json_node_unref(node);
}

void client_print_list_and_result(const char *list_name, char **list, const char *result) {
        g_autoptr(JsonBuilder) b = json_builder_new();
        json_builder_begin_object(b);
        json_builder_set_member_name(b, list_name);
        json_builder_begin_array(b);
        for (char **i = list; i && *i; i++)
                json_builder_add_string_value(b, *i);
        json_builder_end_array(b);
        json_builder_set_member_name(b, "result");
        json_builder_add_string_value(b, result);
        json_builder_end_object(b);
        client_print_json(json_builder_get_root(b));
}
