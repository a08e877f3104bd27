-- The traffic class of a request, so the learner can tell tool-calling,
-- structured-output and image traffic from plain chat: whether it offered
-- tools (or carried tool turns), which JSON output it asked for ('' for
-- none, json_object, json_schema), whether it held images, whether the
-- answer was a tool call, and which candidates routing dropped for a
-- capability they lack (JSON [{"model","capability"}]).

-- +goose Up
ALTER TABLE requests ADD COLUMN uses_tools BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE requests ADD COLUMN json_output TEXT NOT NULL DEFAULT '';
ALTER TABLE requests ADD COLUMN has_images BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE requests ADD COLUMN tool_call_answer BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE requests ADD COLUMN filtered JSONB NOT NULL DEFAULT '[]';

-- +goose Down
ALTER TABLE requests DROP COLUMN filtered;
ALTER TABLE requests DROP COLUMN tool_call_answer;
ALTER TABLE requests DROP COLUMN has_images;
ALTER TABLE requests DROP COLUMN json_output;
ALTER TABLE requests DROP COLUMN uses_tools;
