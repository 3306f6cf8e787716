/* Unit tests for core/aic_turn_plan: context, the bound of what a model is
 * sent, reservation, character limit, cuts, system prompt and answering order
 * of a chat turn. */
#include "unit_helpers.h"

#include <string.h>

#include <apr_strings.h>

#include "core/aic_provider.h"
#include "core/aic_turn_plan.h"

#define MODEL_A "aaaaaaaa-0000-0000-0000-000000000001"
#define MODEL_B "bbbbbbbb-0000-0000-0000-000000000002"

static void push(apr_array_header_t *thread, const char *type, const char *tool_id,
                 const char *tool, const char *content, const char *status)
{
    aic_turn_item *it = apr_array_push(thread);

    it->type = type;
    it->tool_id = tool_id;
    it->tool = tool;
    it->content = content;
    it->status = status;
}

static const aic_chat_msg *msg_at(const apr_array_header_t *msgs, int i)
{
    return &APR_ARRAY_IDX(msgs, i, aic_chat_msg);
}

static void test_context_empty_history(void **state)
{
    apr_pool_t *p = *state;
    apr_array_header_t *thread = apr_array_make(p, 1, sizeof(aic_turn_item));
    apr_int64_t tokens = 99;
    apr_array_header_t *msgs = aic_turn_context(&tokens, p, thread, 50, MODEL_A);

    assert_int_equal(msgs->nelts, 0);
    assert_int_equal(tokens, 0);
}

static void test_context_roles_and_attribution(void **state)
{
    apr_pool_t *p = *state;
    apr_array_header_t *thread = apr_array_make(p, 4, sizeof(aic_turn_item));
    apr_int64_t tokens = 0;
    apr_array_header_t *msgs;

    push(thread, "user", NULL, NULL, "Hello there", "complete");
    push(thread, "ai", MODEL_A, "Alpha", "Mine", "complete");
    push(thread, "ai", MODEL_B, "Beta", "Theirs", NULL);
    msgs = aic_turn_context(&tokens, p, thread, 50, MODEL_A);
    assert_int_equal(msgs->nelts, 3);
    assert_string_equal(msg_at(msgs, 0)->role, "user");
    assert_string_equal(msg_at(msgs, 0)->content, "Hello there");
    assert_string_equal(msg_at(msgs, 1)->role, "assistant");
    assert_string_equal(msg_at(msgs, 1)->content, "Mine");
    assert_string_equal(msg_at(msgs, 2)->role, "user");
    assert_string_equal(msg_at(msgs, 2)->content, "[Beta answered]: Theirs");
    /* ceil(11/4) + ceil(4/4) + ceil(23/4) */
    assert_int_equal(tokens, 3 + 1 + 6);
}

static void test_context_leaves_out_empty_and_failed(void **state)
{
    apr_pool_t *p = *state;
    apr_array_header_t *thread = apr_array_make(p, 4, sizeof(aic_turn_item));
    apr_int64_t tokens = 0;
    apr_array_header_t *msgs;

    push(thread, "user", NULL, NULL, "Question", "complete");
    push(thread, "ai", MODEL_A, "Alpha", "", "incomplete");
    push(thread, "ai", MODEL_A, "Alpha", NULL, "complete");
    push(thread, "ai", MODEL_A, "Alpha", "partial text", "error");
    msgs = aic_turn_context(&tokens, p, thread, 50, MODEL_A);
    assert_int_equal(msgs->nelts, 1);
    assert_string_equal(msg_at(msgs, 0)->content, "Question");
    assert_int_equal(tokens, 2);
}

static void test_context_keeps_the_newest(void **state)
{
    apr_pool_t *p = *state;
    apr_array_header_t *thread = apr_array_make(p, 8, sizeof(aic_turn_item));
    apr_int64_t tokens = 0;
    apr_array_header_t *msgs;

    for (int i = 0; i < 6; i++) {
        push(thread, i % 2 ? "ai" : "user", i % 2 ? MODEL_A : NULL, "Alpha", apr_itoa(p, i),
             "complete");
    }
    msgs = aic_turn_context(&tokens, p, thread, 4, MODEL_A);
    assert_int_equal(msgs->nelts, 4);
    assert_string_equal(msg_at(msgs, 0)->content, "2");
    assert_string_equal(msg_at(msgs, 3)->content, "5");
    assert_int_equal(tokens, 4);
    /* A failed item among the newest is trimmed with them, not replaced by an older one. */
    APR_ARRAY_IDX(thread, 5, aic_turn_item).status = "error";
    msgs = aic_turn_context(&tokens, p, thread, 4, MODEL_A);
    assert_int_equal(msgs->nelts, 3);
    assert_string_equal(msg_at(msgs, 0)->content, "2");
}

static apr_array_header_t *messages(apr_pool_t *p, int n, const char *const *texts)
{
    apr_array_header_t *msgs = apr_array_make(p, n + 1, sizeof(aic_chat_msg));

    for (int i = 0; i < n; i++) {
        aic_chat_msg *m = apr_array_push(msgs);

        m->role = i % 2 ? "assistant" : "user";
        m->content = texts[i];
    }
    return msgs;
}

static void test_input_bound_counts_bytes(void **state)
{
    apr_pool_t *p = *state;
    const char *const ascii[] = {"Hello", "Hi there"};
    /* 日本語 (3 code points, 9 bytes), an emoji (1 code point, 4 bytes) */
    const char *const wide[] = {"\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e", "\xf0\x9f\x98\x80"};

    /* The answer's start alone. */
    assert_int_equal(aic_turn_input_bound(NULL, messages(p, 0, NULL)), AIC_TURN_MESSAGE_TOKENS);
    assert_int_equal(aic_turn_input_bound("", messages(p, 0, NULL)), AIC_TURN_MESSAGE_TOKENS);
    assert_int_equal(aic_turn_input_bound(NULL, messages(p, 2, ascii)),
                     5 + 8 + 3 * AIC_TURN_MESSAGE_TOKENS);
    /* The system prompt counts as a message. */
    assert_int_equal(aic_turn_input_bound("Be brief.", messages(p, 2, ascii)),
                     9 + 5 + 8 + 4 * AIC_TURN_MESSAGE_TOKENS);
    /* Bytes, not code points: text a quarter token per character would undercount. */
    assert_int_equal(aic_turn_input_bound(NULL, messages(p, 2, wide)),
                     9 + 4 + 3 * AIC_TURN_MESSAGE_TOKENS);
    assert_true(aic_turn_input_bound(NULL, messages(p, 2, wide)) >
                aic_tokens_estimate(wide[0]) + aic_tokens_estimate(wide[1]));
}

static void test_input_bound_of_a_long_system_prompt(void **state)
{
    apr_pool_t *p = *state;
    const char *const one[] = {"Hi"};
    char *system = apr_palloc(p, 20001);

    memset(system, 'x', 20000);
    system[20000] = '\0';
    /* A system prompt of 20,000 characters is reserved whole, whatever the thread. */
    assert_int_equal(aic_turn_input_bound(system, messages(p, 1, one)),
                     20000 + 2 + 3 * AIC_TURN_MESSAGE_TOKENS);
}

static void test_reserve_within_the_window(void **state)
{
    apr_int64_t reserve = 0;

    assert_int_equal(aic_turn_reserve(&reserve, 100, 10, 1024, 0), 0);
    assert_int_equal(reserve, 1124);
    assert_int_equal(aic_turn_reserve(&reserve, 100, 10, 1024, 8192), 0);
    assert_int_equal(reserve, 1124);
}

static void test_reserve_caps_a_long_input_at_the_window(void **state)
{
    apr_int64_t reserve = 0;

    /* A provider takes no more input than its window: the bound stops there,
     * and the answer's max_tokens comes on top. */
    assert_int_equal(aic_turn_reserve(&reserve, 5000, 10, 1024, 4096), 0);
    assert_int_equal(reserve, 4096 + 1024);
    /* Exactly the window still fits. */
    assert_int_equal(aic_turn_reserve(&reserve, 4096, 3072, 1024, 4096), 0);
    assert_int_equal(reserve, 4096 + 1024);
}

static void test_reserve_refuses_a_message_larger_than_the_window(void **state)
{
    apr_int64_t reserve = 7;

    assert_int_equal(aic_turn_reserve(&reserve, 4000, 3073, 1024, 4096), -1);
    assert_int_equal(reserve, 7);
    assert_int_equal(aic_turn_reserve(&reserve, 10, 10, 5000, 4096), -1);
}

static void test_char_limit(void **state)
{
    apr_int64_t set = 50, zero = 0;

    assert_int_equal(aic_turn_char_limit(NULL, 0), 0);
    assert_int_equal(aic_turn_char_limit(NULL, 1), AIC_TURN_GROUP_CHAR_LIMIT);
    assert_int_equal(aic_turn_char_limit(&set, 0), 50);
    assert_int_equal(aic_turn_char_limit(&set, 1), 50);
    /* A conversation may lift a group's limit. */
    assert_int_equal(aic_turn_char_limit(&zero, 1), 0);
}

static void test_cut_counts_code_points(void **state)
{
    apr_pool_t *p = *state;
    const char *text = "h\xc3\xa9llo w\xc3\xb6rld"; /* héllo wörld: 11 code points, 13 bytes */
    const char *emoji = "\xf0\x9f\x98\x80\xf0\x9f\x98\x81\xf0\x9f\x98\x82";

    assert_string_equal(aic_turn_cut(p, text, 2), "h\xc3\xa9");
    assert_string_equal(aic_turn_cut(p, text, 8), "h\xc3\xa9llo w\xc3\xb6");
    assert_ptr_equal(aic_turn_cut(p, text, 11), text);
    assert_ptr_equal(aic_turn_cut(p, text, 100), text);
    assert_string_equal(aic_turn_cut(p, emoji, 2), "\xf0\x9f\x98\x80\xf0\x9f\x98\x81");
    assert_string_equal(aic_turn_cut(p, text, 0), "");
    assert_string_equal(aic_turn_cut(p, "", 3), "");
}

static void test_fit_bytes_keeps_code_points_whole(void **state)
{
    const char *text = "h\xc3\xa9llo"; /* héllo: 6 bytes */
    const char *emoji = "a\xf0\x9f\x98\x80"
                        "b";

    assert_int_equal(aic_turn_fit_bytes(text, 6, 100), 6);
    assert_int_equal(aic_turn_fit_bytes(text, 6, 6), 6);
    assert_int_equal(aic_turn_fit_bytes(text, 6, 3), 3);
    /* Room ends inside é: it is left out whole. */
    assert_int_equal(aic_turn_fit_bytes(text, 6, 2), 1);
    assert_int_equal(aic_turn_fit_bytes(emoji, 6, 4), 1);
    assert_int_equal(aic_turn_fit_bytes(emoji, 6, 5), 5);
    assert_int_equal(aic_turn_fit_bytes(emoji, 6, 0), 0);
}

static void test_system_prompt_alone(void **state)
{
    apr_pool_t *p = *state;

    assert_null(aic_turn_system(p, NULL, 0, "Alpha", 0, 0));
    assert_string_equal(aic_turn_system(p, "Be brief.", 0, "Alpha", 0, 0), "Be brief.");
    assert_string_equal(aic_turn_system(p, NULL, 0, "Alpha", 0, 40),
                        "Answer in at most 40 characters.");
    assert_string_equal(aic_turn_system(p, "Be brief.", 0, "Alpha", 0, 40),
                        "Be brief.\n\nAnswer in at most 40 characters.");
}

static void test_system_prompt_in_a_group(void **state)
{
    apr_pool_t *p = *state;

    assert_string_equal(
        aic_turn_system(p, NULL, 1, "Alpha", 0, 280),
        "You are Alpha in a group conversation with other AI models. Answer in at most "
        "280 characters.");
    assert_string_equal(aic_turn_system(p, "Be kind.", 1, "Beta", 1, 0),
                        "Be kind.\n\nYou are Beta in a group conversation with other AI models. "
                        "Other models have already answered: add a different perspective rather "
                        "than repeating them.");
}

static void test_fixed_first(void **state)
{
    const char *const slugs[] = {"alpha", "beta", "gamma"};

    assert_int_equal(aic_turn_fixed_first(slugs, 3, "beta"), 1);
    assert_int_equal(aic_turn_fixed_first(slugs, 3, "alpha"), 0);
    /* No rule, or a fixed model that is not (or no longer) in the group: the rotation decides. */
    assert_int_equal(aic_turn_fixed_first(slugs, 3, NULL), -1);
    assert_int_equal(aic_turn_fixed_first(slugs, 3, "delta"), -1);
    assert_int_equal(aic_turn_fixed_first(slugs, 0, "alpha"), -1);
}

static void test_order_rotates(void **state)
{
    int order[3];

    aic_turn_order(order, 3, 0);
    assert_int_equal(order[0], 0);
    assert_int_equal(order[1], 1);
    assert_int_equal(order[2], 2);
    aic_turn_order(order, 3, 2);
    assert_int_equal(order[0], 2);
    assert_int_equal(order[1], 0);
    assert_int_equal(order[2], 1);
    /* A rotation counter past the group's size wraps around. */
    aic_turn_order(order, 3, 4);
    assert_int_equal(order[0], 1);
    assert_int_equal(order[1], 2);
    assert_int_equal(order[2], 0);
    aic_turn_order(order, 1, 5);
    assert_int_equal(order[0], 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        POOL_TEST(test_context_empty_history),
        POOL_TEST(test_context_roles_and_attribution),
        POOL_TEST(test_context_leaves_out_empty_and_failed),
        POOL_TEST(test_context_keeps_the_newest),
        POOL_TEST(test_input_bound_counts_bytes),
        POOL_TEST(test_input_bound_of_a_long_system_prompt),
        POOL_TEST(test_reserve_within_the_window),
        POOL_TEST(test_reserve_caps_a_long_input_at_the_window),
        POOL_TEST(test_reserve_refuses_a_message_larger_than_the_window),
        POOL_TEST(test_char_limit),
        POOL_TEST(test_cut_counts_code_points),
        POOL_TEST(test_fit_bytes_keeps_code_points_whole),
        POOL_TEST(test_system_prompt_alone),
        POOL_TEST(test_system_prompt_in_a_group),
        POOL_TEST(test_fixed_first),
        POOL_TEST(test_order_rotates),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
