#include "fair-queue.h"

#include <glib.h>

/* The items of one key, oldest first. */
typedef struct Lane {
        unsigned key;
        GQueue items;
} Lane;

struct FairQueue {
        GQueue turn;  /* Lane*, the next to serve first */
        size_t length;
};

FairQueue *fair_queue_new(void) {
        FairQueue *q = g_new0(FairQueue, 1);
        g_queue_init(&q->turn);
        return q;
}

static Lane *lane_of(FairQueue *q, unsigned key) {
        for (GList *l = q->turn.head; l; l = l->next)
                if (((Lane *) l->data)->key == key)
                        return l->data;
        return NULL;
}

void fair_queue_push(FairQueue *q, unsigned key, void *item) {
        Lane *lane = lane_of(q, key);
        if (!lane) {
                lane = g_new0(Lane, 1);
                lane->key = key;
                g_queue_init(&lane->items);
                g_queue_push_tail(&q->turn, lane);
        }
        g_queue_push_tail(&lane->items, item);
        q->length++;
}

void *fair_queue_pop(FairQueue *q, bool (*may_take)(unsigned key, void *userdata), void *userdata) {
        for (GList *l = q->turn.head; l; l = l->next) {
                Lane *lane = l->data;
                if (may_take && !may_take(lane->key, userdata))
                        continue;
                void *item = g_queue_pop_head(&lane->items);
                q->length--;
                g_queue_delete_link(&q->turn, l);
                if (g_queue_is_empty(&lane->items))
                        g_free(lane);
                else
                        g_queue_push_tail(&q->turn, lane);
                return item;
        }
        return NULL;
}

void fair_queue_remove_if(FairQueue *q, bool (*match)(void *item, void *userdata), void (*drop)(void *item),
                          void *userdata) {
        for (GList *l = q->turn.head; l;) {
                GList *next_lane = l->next;
                Lane *lane = l->data;
                for (GList *i = lane->items.head; i;) {
                        GList *next = i->next;
                        void *item = i->data;
                        if (match(item, userdata)) {
                                g_queue_delete_link(&lane->items, i);
                                q->length--;
                                drop(item);
                        }
                        i = next;
                }
                if (g_queue_is_empty(&lane->items)) {
                        g_queue_delete_link(&q->turn, l);
                        g_free(lane);
                }
                l = next_lane;
        }
}

size_t fair_queue_length(const FairQueue *q) {
        return q->length;
}

void fair_queue_free(FairQueue *q, void (*drop)(void *item)) {
        if (!q)
                return;
        Lane *lane;
        while ((lane = g_queue_pop_head(&q->turn))) {
                void *item;
                while (!g_queue_is_empty(&lane->items)) {
                        item = g_queue_pop_head(&lane->items);
                        if (drop)
                                drop(item);
                }
                g_free(lane);
        }
        g_free(q);
}
