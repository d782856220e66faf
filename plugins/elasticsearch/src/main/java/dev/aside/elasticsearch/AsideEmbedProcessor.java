package dev.aside.elasticsearch;

import org.elasticsearch.action.ActionListener;
import org.elasticsearch.cluster.metadata.ProjectId;
import org.elasticsearch.core.Nullable;
import org.elasticsearch.ingest.AbstractProcessor;
import org.elasticsearch.ingest.ConfigurationUtils;
import org.elasticsearch.ingest.IngestDocument;
import org.elasticsearch.ingest.Processor;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * {@code {"aside_embed": {"fields": ["title", "text"], "target_field": "vec", "task": "..."}}}: writes
 * Aside's document embedding of the joined fields into a dense_vector field. Asynchronous (the pipeline
 * resumes when Aside answers); one request per document, as ingest processors see one document at a time.
 */
public final class AsideEmbedProcessor extends AbstractProcessor {
    public static final String TYPE = "aside_embed";

    private final Supplier<AsideClient> client;
    private final List<String> fields;
    @Nullable
    private final String titleField;
    private final String targetField;
    @Nullable
    private final String task;
    private final boolean ignoreMissing;

    AsideEmbedProcessor(
        String tag,
        String description,
        Supplier<AsideClient> client,
        List<String> fields,
        @Nullable String titleField,
        String targetField,
        @Nullable String task,
        boolean ignoreMissing
    ) {
        super(tag, description);
        this.client = client;
        this.fields = fields;
        this.titleField = titleField;
        this.targetField = targetField;
        this.task = task;
        this.ignoreMissing = ignoreMissing;
    }

    @Override
    public String getType() {
        return TYPE;
    }

    @Override
    public boolean isAsync() {
        return true;
    }

    @Override
    public IngestDocument execute(IngestDocument doc) {
        throw new UnsupportedOperationException("aside_embed is asynchronous");
    }

    @Override
    public void execute(IngestDocument doc, BiConsumer<IngestDocument, Exception> handler) {
        Function<String, List<?>> valuesOf = f -> {
            Object v = doc.getFieldValue(f, Object.class, true);
            return v == null ? null : v instanceof List<?> l ? l : List.of(v);
        };
        String text = FieldsText.join(fields, valuesOf);
        String title = titleField == null ? null : FieldsText.join(List.of(titleField), valuesOf);
        if (text.isEmpty()) {
            if (ignoreMissing) handler.accept(doc, null);
            else handler.accept(null, new IllegalArgumentException("[aside_embed] none of the fields " + fields + " has text"));
            return;
        }
        client.get().embed(List.of(new AsideDocument(title, text)), task, "document", null, ActionListener.wrap(vectors -> {
            float[] v = vectors.getFirst();
            List<Float> values = new ArrayList<>(v.length);
            for (float x : v) values.add(x);
            doc.setFieldValue(targetField, values);
            handler.accept(doc, null);
        }, e -> handler.accept(null, e)));
    }

    static final class Factory implements Processor.Factory {
        private final Supplier<AsideClient> client;

        Factory(Supplier<AsideClient> client) {
            this.client = client;
        }

        @Override
        public Processor create(Map<String, Processor.Factory> registry, String tag, String description, Map<String, Object> config, ProjectId projectId) {
            List<String> fields = ConfigurationUtils.readList(TYPE, tag, config, "fields");
            String target = ConfigurationUtils.readStringProperty(TYPE, tag, config, "target_field");
            String titleField = ConfigurationUtils.readOptionalStringProperty(TYPE, tag, config, "title_field");
            String task = ConfigurationUtils.readOptionalStringProperty(TYPE, tag, config, "task");
            boolean ignoreMissing = ConfigurationUtils.readBooleanProperty(TYPE, tag, config, "ignore_missing", false);
            if (fields.isEmpty()) throw ConfigurationUtils.newConfigurationException(TYPE, tag, "fields", "must name at least one field");
            return new AsideEmbedProcessor(tag, description, client, List.copyOf(fields), titleField, target, task, ignoreMissing);
        }
    }
}
