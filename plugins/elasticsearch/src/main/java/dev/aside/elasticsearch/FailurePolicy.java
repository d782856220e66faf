package dev.aside.elasticsearch;

import java.util.Locale;

/** What a re-ranking search does when Aside fails or is too slow. */
public enum FailurePolicy {
    /** The search fails with Aside's error (503 unreachable, 504 timeout, 400 bad task or text). */
    FAIL,
    /** The search answers with the first stage's order and scores, as if no re-ranker were configured. */
    KEEP_ORDER;

    public static FailurePolicy parse(String value) {
        try {
            return valueOf(value.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("[on_failure] must be [fail] or [keep_order], got [" + value + "]");
        }
    }

    public String value() {
        return name().toLowerCase(Locale.ROOT);
    }
}
