"""Journey events as a governed stream (docs/events.md).

- `catalogue`: one pydantic model per event type and version: what a published event's data
  may carry (ids, names, outcomes, classifications; never an answer);
- `envelope`: a stored event as a CloudEvent 1.0;
- `buses`: where CloudEvents go (NATS JetStream, Amazon EventBridge), one module per bus;
- `relay`: publishes the events' outbox in order, and replays a range;
- `contracts`: JSON Schemas and the AsyncAPI document generated from the catalogue, and the
  compatibility check between two sets of schemas;
- `consumer`: deduplication by event id for consumers.
"""
