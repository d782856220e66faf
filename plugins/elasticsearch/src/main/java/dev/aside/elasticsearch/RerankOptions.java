package dev.aside.elasticsearch;

import org.elasticsearch.common.io.stream.StreamInput;
import org.elasticsearch.common.io.stream.StreamOutput;
import org.elasticsearch.common.io.stream.Writeable;
import org.elasticsearch.core.Nullable;
import org.elasticsearch.core.TimeValue;
import org.elasticsearch.xcontent.ParseField;
import org.elasticsearch.xcontent.XContentBuilder;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/** What every Aside re-ranking (retriever or rescorer) is asked for; the wire and JSON forms live here once. */
public record RerankOptions(
    String query,
    List<String> fields,
    @Nullable String titleField,
    @Nullable String task, @Nullable Blend blend, FailurePolicy onFailure, @Nullable TimeValue timeout)
    implements
        Writeable {

    static final ParseField QUERY = new ParseField("query");
    static final ParseField FIELDS = new ParseField("fields");
    static final ParseField TITLE_FIELD = new ParseField("title_field");
    static final ParseField TASK = new ParseField("task");
    static final ParseField BLEND = new ParseField("blend");
    static final ParseField ON_FAILURE = new ParseField("on_failure");
    static final ParseField TIMEOUT = new ParseField("timeout");

    public RerankOptions {
        if (query == null || query.isBlank()) throw new IllegalArgumentException("[query] must not be empty");
        if (fields == null || fields.isEmpty()) throw new IllegalArgumentException("[fields] must name at least one text field");
        fields = List.copyOf(fields);
        if (onFailure == null) onFailure = FailurePolicy.FAIL;
    }

    /** From parsed values: on_failure and timeout as the strings the request gave. */
    static RerankOptions of(String query, List<String> fields, String titleField, String task, Blend blend, String onFailure, String timeout) {
        return new RerankOptions(
            query,
            fields,
            titleField,
            task,
            blend,
            onFailure == null ? FailurePolicy.FAIL : FailurePolicy.parse(onFailure),
            timeout == null ? null : TimeValue.parseTimeValue(timeout, TIMEOUT.getPreferredName())
        );
    }

    public RerankOptions(StreamInput in) throws IOException {
        this(
            in.readString(),
            in.readStringCollectionAsList(),
            in.readOptionalString(),
            in.readOptionalString(),
            in.readOptionalWriteable(Blend::new),
            in.readEnum(FailurePolicy.class),
            in.readOptionalTimeValue()
        );
    }

    @Override
    public void writeTo(StreamOutput out) throws IOException {
        out.writeString(query);
        out.writeStringCollection(fields);
        out.writeOptionalString(titleField);
        out.writeOptionalString(task);
        out.writeOptionalWriteable(blend);
        out.writeEnum(onFailure);
        out.writeOptionalTimeValue(timeout);
    }

    void toXContentFields(XContentBuilder b) throws IOException {
        b.field(QUERY.getPreferredName(), query);
        b.field(FIELDS.getPreferredName(), fields);
        if (titleField != null) b.field(TITLE_FIELD.getPreferredName(), titleField);
        if (task != null) b.field(TASK.getPreferredName(), task);
        if (blend != null) b.field(BLEND.getPreferredName(), blend);
        b.field(ON_FAILURE.getPreferredName(), onFailure.value());
        if (timeout != null) b.field(TIMEOUT.getPreferredName(), timeout.getStringRep());
    }

    /** The fields a shard reads: the text fields, then the title field if any. */
    List<String> fetchedFields() {
        if (titleField == null) return fields;
        List<String> all = new ArrayList<>(fields);
        all.add(titleField);
        return all;
    }

    /** The document Aside reads, from a source of field values. */
    AsideDocument documentOf(Function<String, List<?>> valuesOf) {
        String text = FieldsText.join(fields, valuesOf);
        return new AsideDocument(titleField == null ? null : FieldsText.join(List.of(titleField), valuesOf), text);
    }

    /**
     * Final scores from Aside's raw scores and the first stage's. Elasticsearch requires positive scores of
     * re-ranked documents; raw re-ranker logits can be negative, so without a blend they go through
     * text_similarity_reranker's own monotone map max(s, 0) + min(e^s, 1), which keeps Aside's order.
     */
    float[] finalScores(float[] raw, float[] firstStage) {
        if (blend != null) return blend.apply(raw, firstStage);
        float[] out = new float[raw.length];
        for (int i = 0; i < raw.length; i++) out[i] = positive(raw[i]);
        return out;
    }

    static float positive(float s) {
        return Math.max(s, 0f) + Math.min((float) Math.exp(s), 1f);
    }
}
