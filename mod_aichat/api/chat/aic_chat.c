/* The chat capability: conversations and messages; send a message and have
 * the conversation's models answer (streamed as Server-Sent Events or as one
 * JSON answer); regenerate; switch branches; invite users; credits reserved
 * before and settled after each provider call. Its files: aic_chat.h. */
#include "aic_chat.h"

static const aic_endpoint ep_conv_create = {aic_chat_conversation_create, 0};
static const aic_endpoint ep_conv_list = {aic_chat_conversation_list, 0};
static const aic_endpoint ep_conv_get = {aic_chat_conversation_get, 0};
static const aic_endpoint ep_conv_patch = {aic_chat_conversation_patch, 0};
static const aic_endpoint ep_conv_models = {aic_chat_conversation_set_models, 0};
static const aic_endpoint ep_conv_delete = {aic_chat_conversation_delete, 0};
static const aic_endpoint ep_conv_restore = {aic_chat_conversation_restore, 0};
static const aic_endpoint ep_participant_add = {aic_chat_participant_add, 0};
static const aic_endpoint ep_participant_remove = {aic_chat_participant_remove, 0};
static const aic_endpoint ep_thread = {aic_chat_thread, 0};
static const aic_endpoint ep_send = {aic_chat_message_send, 0};
static const aic_endpoint ep_active = {aic_chat_set_active, 0};
static const aic_endpoint ep_regenerate = {aic_chat_message_regenerate, 0};

const aic_route aic_chat_routes[] = {
    {"POST", "/v1/conversations", &ep_conv_create},
    {"GET", "/v1/conversations", &ep_conv_list},
    {"GET", "/v1/conversations/{id}", &ep_conv_get},
    {"PATCH", "/v1/conversations/{id}", &ep_conv_patch},
    {"DELETE", "/v1/conversations/{id}", &ep_conv_delete},
    {"PUT", "/v1/conversations/{id}/models", &ep_conv_models},
    {"POST", "/v1/conversations/{id}/restore", &ep_conv_restore},
    {"POST", "/v1/conversations/{id}/participants", &ep_participant_add},
    {"DELETE", "/v1/conversations/{id}/participants/{username}", &ep_participant_remove},
    {"GET", "/v1/conversations/{id}/messages", &ep_thread},
    {"POST", "/v1/conversations/{id}/messages", &ep_send},
    {"PUT", "/v1/conversations/{id}/active", &ep_active},
    {"POST", "/v1/messages/{id}/regenerate", &ep_regenerate},
    {NULL, NULL, NULL}};
