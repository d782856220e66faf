package dev.aside.elasticsearch;

import org.elasticsearch.TransportVersion;
import org.elasticsearch.action.ActionListener;
import org.elasticsearch.client.internal.Client;
import org.elasticsearch.common.io.stream.StreamInput;
import org.elasticsearch.common.io.stream.StreamOutput;
import org.elasticsearch.core.Nullable;
import org.elasticsearch.search.vectors.QueryVectorBuilder;
import org.elasticsearch.xcontent.ConstructingObjectParser;
import org.elasticsearch.xcontent.ParseField;
import org.elasticsearch.xcontent.XContentBuilder;
import org.elasticsearch.xcontent.XContentParser;

import java.io.IOException;
import java.util.List;
import java.util.Objects;
import java.util.function.Supplier;

import static org.elasticsearch.xcontent.ConstructingObjectParser.constructorArg;
import static org.elasticsearch.xcontent.ConstructingObjectParser.optionalConstructorArg;

/**
 * {@code "knn": {"field": "...", "query_vector_builder": {"aside": {"text": "...", "task": "..."}}}}: the
 * query vector is Aside's query embedding of `text` for `task`, fetched once per search while the request
 * is rewritten on the coordinating node (asynchronously).
 */
public final class AsideQueryVectorBuilder implements QueryVectorBuilder {
    public static final String NAME = "aside";
    static final ParseField TEXT = new ParseField("text");
    static final ParseField TASK = new ParseField("task");

    private static final ConstructingObjectParser<Object[], Void> PARSER = new ConstructingObjectParser<>(NAME, false, a -> a);
    static {
        PARSER.declareString(constructorArg(), TEXT);
        PARSER.declareString(optionalConstructorArg(), TASK);
    }

    public static AsideQueryVectorBuilder fromXContent(XContentParser parser, Supplier<AsideClient> client) {
        Object[] a = PARSER.apply(parser, null);
        return new AsideQueryVectorBuilder(client, (String) a[0], (String) a[1]);
    }

    private final Supplier<AsideClient> client;
    private final String text;
    @Nullable
    private final String task;

    AsideQueryVectorBuilder(Supplier<AsideClient> client, String text, @Nullable String task) {
        if (text == null || text.isBlank()) throw new IllegalArgumentException("[aside] query_vector_builder needs a non-empty [text]");
        this.client = client;
        this.text = text;
        this.task = task;
    }

    public AsideQueryVectorBuilder(StreamInput in, Supplier<AsideClient> client) throws IOException {
        this(client, in.readString(), in.readOptionalString());
    }

    @Override
    public void writeTo(StreamOutput out) throws IOException {
        out.writeString(text);
        out.writeOptionalString(task);
    }

    @Override
    public String getWriteableName() {
        return NAME;
    }

    @Override
    public TransportVersion getMinimalSupportedVersion() {
        return TransportVersion.minimumCompatible();
    }

    @Override
    public XContentBuilder toXContent(XContentBuilder b, Params params) throws IOException {
        b.startObject().field(TEXT.getPreferredName(), text);
        if (task != null) b.field(TASK.getPreferredName(), task);
        return b.endObject();
    }

    @Override
    public void buildVector(Client unused, ActionListener<float[]> listener) {
        client.get().embed(List.of(new AsideDocument(null, text)), task, "query", null, listener.delegateFailureAndWrap((l, vectors) -> l.onResponse(vectors.getFirst())));
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof AsideQueryVectorBuilder other && text.equals(other.text) && Objects.equals(task, other.task);
    }

    @Override
    public int hashCode() {
        return Objects.hash(text, task);
    }
}
