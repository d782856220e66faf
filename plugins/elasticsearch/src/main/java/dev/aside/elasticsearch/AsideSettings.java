package dev.aside.elasticsearch;

import org.elasticsearch.common.settings.SecureSetting;
import org.elasticsearch.common.settings.SecureString;
import org.elasticsearch.common.settings.Setting;
import org.elasticsearch.common.settings.Setting.Property;
import org.elasticsearch.core.TimeValue;

import java.util.List;

/** Node settings of the plugin (elasticsearch.yml; url and timeout also as dynamic cluster settings). */
public final class AsideSettings {
    private AsideSettings() {}

    /** Base URL of the Aside server as this node reaches it. */
    public static final Setting<String> URL = Setting.simpleString("aside.url", "http://127.0.0.1:8080", Property.NodeScope, Property.Dynamic);

    /** Default per-call limit for every Aside request; a request's own `timeout` overrides it. */
    public static final Setting<TimeValue> TIMEOUT = Setting.timeSetting(
        "aside.timeout",
        TimeValue.timeValueSeconds(30),
        TimeValue.timeValueMillis(1),
        Property.NodeScope,
        Property.Dynamic
    );

    public static final Setting<TimeValue> CONNECT_TIMEOUT = Setting.timeSetting(
        "aside.connect_timeout",
        TimeValue.timeValueSeconds(5),
        TimeValue.timeValueMillis(1),
        Property.NodeScope
    );

    /**
     * Most requests in flight to Aside from this node; more wait in a queue (without a thread). An ingest
     * pipeline runs a bulk request's documents at once, and hundreds of single-document calls would only
     * queue inside Aside and run into the timeout there.
     */
    public static final Setting<Integer> MAX_CONCURRENT_REQUESTS = Setting.intSetting("aside.max_concurrent_requests", 16, 1, Property.NodeScope);

    /** Sent as `Authorization: Bearer …` when set; lives in the keystore, never in elasticsearch.yml. */
    public static final Setting<SecureString> API_KEY = SecureSetting.secureString("aside.api_key", null);

    public static List<Setting<?>> all() {
        return List.of(URL, TIMEOUT, CONNECT_TIMEOUT, MAX_CONCURRENT_REQUESTS, API_KEY);
    }
}
