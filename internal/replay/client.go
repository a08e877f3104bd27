package replay

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// answer is what the service said about one prompt.
type answer struct {
	id      string
	model   string
	costUSD float64
}

// send posts one prompt to /ask or /v1/chat/completions; a non-2xx
// answer is an error and an empty answer.
func send(ctx context.Context, client *http.Client, o Options, prompt string) (answer, error) {
	if o.API == APIChat {
		body := map[string]any{"model": "auto", "messages": []map[string]string{{"role": "user", "content": prompt}}}
		resp, err := postJSON(ctx, client, o.Target.JoinPath("/v1/chat/completions"), body)
		if err != nil {
			return answer{}, err
		}
		defer resp.Body.Close()
		if err := checkStatus(resp); err != nil {
			return answer{}, err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		cost, _ := strconv.ParseFloat(resp.Header.Get("x-switchyard-cost-usd"), 64)
		a := answer{id: resp.Header.Get("x-switchyard-request-id"), model: resp.Header.Get("x-switchyard-model"), costUSD: cost}
		if a.id == "" {
			return answer{}, errors.New("chat completion: no x-switchyard-request-id header")
		}
		return a, nil
	}
	resp, err := postJSON(ctx, client, o.Target.JoinPath("/ask"), map[string]string{"prompt": prompt})
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()
	if err := checkStatus(resp); err != nil {
		return answer{}, err
	}
	var out struct {
		ID       string `json:"id"`
		Metadata struct {
			ModelUsed  string  `json:"model_used"`
			ActualCost float64 `json:"actual_cost"`
		} `json:"metadata"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return answer{}, fmt.Errorf("ask: decode answer: %w", err)
	}
	if out.ID == "" {
		return answer{}, errors.New("ask: answer without an id")
	}
	return answer{id: out.ID, model: out.Metadata.ModelUsed, costUSD: out.Metadata.ActualCost}, nil
}

func postFeedback(ctx context.Context, client *http.Client, target *url.URL, id string, score float64) error {
	resp, err := postJSON(ctx, client, target.JoinPath("/feedback"), map[string]any{"id": id, "score": score})
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if err := checkStatus(resp); err != nil {
		return fmt.Errorf("feedback for %s: %w", id, err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	return nil
}

func postJSON(ctx context.Context, client *http.Client, u *url.URL, body any) (*http.Response, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return nil, fmt.Errorf("encode request: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("post %s: %w", u.Path, err)
	}
	return resp, nil
}

// checkStatus turns a non-2xx response into an error carrying the
// service's error message.
func checkStatus(resp *http.Response) error {
	if resp.StatusCode/100 == 2 {
		return nil
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	var env struct {
		Error struct {
			Message string `json:"message"`
		} `json:"error"`
	}
	msg := strings.TrimSpace(string(b))
	if json.Unmarshal(b, &env) == nil && env.Error.Message != "" {
		msg = env.Error.Message
	}
	return fmt.Errorf("%s %s: %s", resp.Request.URL.Path, resp.Status, msg)
}
