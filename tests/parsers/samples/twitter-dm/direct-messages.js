window.YTD.direct_messages.part0 = [
  {
    "dmConversation": {
      "conversationId": "1000000001-2000000002",
      "messages": [
        {
          "messageCreate": {
            "recipientId": "1000000001",
            "reactions": [],
            "urls": [],
            "text": "See you soon",
            "mediaUrls": [],
            "senderId": "2000000002",
            "id": "1760000000000000002",
            "createdAt": "2026-03-20T23:55:00.000Z"
          }
        },
        {
          "messageCreate": {
            "recipientId": "2000000002",
            "reactions": [],
            "urls": [],
            "text": "Leave me alone",
            "mediaUrls": [],
            "senderId": "1000000001",
            "id": "1760000000000000001",
            "createdAt": "2026-03-20T23:50:00.000Z"
          }
        }
      ]
    }
  }
]