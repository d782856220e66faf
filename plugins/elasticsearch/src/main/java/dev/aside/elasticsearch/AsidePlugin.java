package dev.aside.elasticsearch;

import org.apache.lucene.util.SetOnce;
import org.elasticsearch.common.io.stream.NamedWriteableRegistry;
import org.elasticsearch.common.settings.SecureString;
import org.elasticsearch.common.settings.Setting;
import org.elasticsearch.common.settings.Settings;
import org.elasticsearch.ingest.Processor;
import org.elasticsearch.plugins.IngestPlugin;
import org.elasticsearch.plugins.Plugin;
import org.elasticsearch.plugins.SearchPlugin;
import org.elasticsearch.search.rank.RankBuilder;

import java.util.Collection;
import java.util.List;
import java.util.Map;

/** Registers Aside's retriever, rank builder, query vector builder, rescorer, ingest processor and settings. */
public class AsidePlugin extends Plugin implements SearchPlugin, IngestPlugin {
    private final Settings settings;
    private final String apiKey;
    private final SetOnce<AsideClient> client = new SetOnce<>();

    public AsidePlugin(Settings settings) {
        this.settings = settings;
        // Secure settings are readable only while the node starts: read the key now.
        try (SecureString key = AsideSettings.API_KEY.get(settings)) {
            this.apiKey = key.length() == 0 ? null : key.toString();
        }
    }

    private AsideClient client() {
        AsideClient c = client.get();
        if (c == null) throw new IllegalStateException("the Aside plugin is not initialised yet");
        return c;
    }

    @Override
    public List<Setting<?>> getSettings() {
        return AsideSettings.all();
    }

    @Override
    public Collection<?> createComponents(PluginServices services) {
        AsideClient c = new AsideClient(settings, apiKey, services.threadPool());
        services.clusterService().getClusterSettings().addSettingsUpdateConsumer(AsideSettings.URL, c::setUrl);
        services.clusterService().getClusterSettings().addSettingsUpdateConsumer(AsideSettings.TIMEOUT, c::setTimeout);
        client.set(c);
        return List.of();
    }

    @Override
    public void close() {
        AsideClient c = client.get();
        if (c != null) c.close();
    }

    @Override
    public List<RetrieverSpec<?>> getRetrievers() {
        return List.of(new RetrieverSpec<>(AsideRerankRetrieverBuilder.NAME, (p, c) -> AsideRerankRetrieverBuilder.fromXContent(p, c, this::client)));
    }

    @Override
    public List<NamedWriteableRegistry.Entry> getNamedWriteables() {
        return List.of(new NamedWriteableRegistry.Entry(RankBuilder.class, AsideRankBuilder.NAME, in -> new AsideRankBuilder(in, this::client)));
    }

    @Override
    public List<QueryVectorBuilderSpec<?>> getQueryVectorBuilders() {
        return List.of(
            new QueryVectorBuilderSpec<>(
                AsideQueryVectorBuilder.NAME,
                in -> new AsideQueryVectorBuilder(in, this::client),
                (p, c) -> AsideQueryVectorBuilder.fromXContent(p, this::client)
            )
        );
    }

    @Override
    public List<RescorerSpec<?>> getRescorers() {
        return List.of(
            new RescorerSpec<>(AsideRescorerBuilder.NAME, in -> new AsideRescorerBuilder(in, this::client), p -> AsideRescorerBuilder.fromXContent(p, this::client))
        );
    }

    @Override
    public Map<String, Processor.Factory> getProcessors(Processor.Parameters parameters) {
        return Map.of(AsideEmbedProcessor.TYPE, new AsideEmbedProcessor.Factory(this::client));
    }
}
