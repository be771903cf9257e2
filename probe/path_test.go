package probe

import "testing"

// The probe URL comes from the registered endpoint alone: same host and
// port as S3, any reverse-proxy path kept, the reserved prefix appended.
func TestBaseURLFromEndpoint(t *testing.T) {
	for in, want := range map[string]string{
		"http://127.0.0.1:9000":         "http://127.0.0.1:9000/_flashback",
		"http://127.0.0.1:23456/":       "http://127.0.0.1:23456/_flashback",
		"https://s3.example.com":        "https://s3.example.com/_flashback",
		"https://proxy.example.com/s3/": "https://proxy.example.com/s3/_flashback",
		" http://h:1/x?q=1#f ":          "http://h:1/x/_flashback",
	} {
		got, err := BaseURL(in)
		if err != nil || got != want {
			t.Errorf("BaseURL(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "127.0.0.1:9000", "ftp://h:1", "http://", "://x"} {
		if got, err := BaseURL(bad); err == nil {
			t.Errorf("BaseURL(%q) = %q, want an error", bad, got)
		}
	}
}
