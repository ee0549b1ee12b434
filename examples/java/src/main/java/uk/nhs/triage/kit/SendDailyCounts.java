package uk.nhs.triage.kit;

import java.io.File;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Future;
import org.apache.avro.Schema;
import org.apache.avro.SchemaNormalization;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.message.BinaryMessageEncoder;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Sends the rows of a conformance rows file (CSV with a header: event_id, supplier_id,
 * practice_code, activity_date, revision, total_requests, clinical_requests, admin_requests,
 * other_requests, ...) to a supplier's topic, in file order: each row one Avro single-object
 * encoded event (C3 01, the schema's CRC-64-AVRO fingerprint, the binary body) keyed
 * {@code <practice_code>:<YYYY-MM-DD>}, with an idempotent producer and acks=all. With schema v3
 * the nine time-band columns (requests_00_06 ... requests_time_unknown) are sent too; an empty
 * cell, or a column the file lacks, is null.
 */
public final class SendDailyCounts {
  /** The time bands of schema v3, UK local time of submission (and time not known). */
  private static final String[] BANDS = {
    "requests_00_06", "requests_06_08", "requests_08_10", "requests_10_12", "requests_12_14",
    "requests_14_16", "requests_16_18", "requests_18_24", "requests_time_unknown"
  };

  private SendDailyCounts() {}

  public static void main(String[] args) throws Exception {
    Map<String, String> options = options(args);
    Schema schema = new Schema.Parser().parse(new File(required(options, "--schema")));
    // The fingerprint as a 64-bit number; single-object encoding writes it little-endian,
    // so this hex reads in the other byte order from the bytes after C3 01 (`ingest schemas`).
    System.err.printf(
        "schema %s fingerprint (parsingFingerprint64) %016x%n",
        schema.getFullName(), SchemaNormalization.parsingFingerprint64(schema));
    BinaryMessageEncoder<GenericRecord> encoder =
        new BinaryMessageEncoder<>(GenericData.get(), schema);
    String topic = required(options, "--topic");

    List<String> lines = Files.readAllLines(Path.of(required(options, "--rows")), StandardCharsets.UTF_8);
    Map<String, Integer> column = new HashMap<>();
    String[] header = lines.get(0).split(",", -1);
    for (int i = 0; i < header.length; i++) {
      column.put(header[i], i);
    }

    try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(properties(options))) {
      List<Future<RecordMetadata>> sent = new ArrayList<>();
      for (String line : lines.subList(1, lines.size())) {
        if (line.isBlank()) {
          continue;
        }
        String[] cells = line.split(",", -1);
        GenericRecord event = new GenericData.Record(schema);
        event.put("event_id", cells[column.get("event_id")]);
        event.put("supplier_id", cells[column.get("supplier_id")]);
        String practice = cells[column.get("practice_code")];
        event.put("practice_code", practice);
        LocalDate day = LocalDate.parse(cells[column.get("activity_date")]);
        event.put("activity_date", (int) day.toEpochDay());
        event.put("revision", Integer.parseInt(cells[column.get("revision")]));
        event.put("generated_at", System.currentTimeMillis());
        event.put("total_requests", Integer.parseInt(cells[column.get("total_requests")]));
        for (String part : new String[] {"clinical_requests", "admin_requests", "other_requests"}) {
          String cell = cells[column.get(part)];
          event.put(part, cell.isEmpty() ? null : Integer.valueOf(cell));
        }
        for (String band : BANDS) {
          // only a schema that has the field (v3 on) carries it; older writers have no bands
          if (schema.getField(band) != null) {
            Integer at = column.get(band);
            String cell = at == null ? "" : cells[at];
            event.put(band, cell.isEmpty() ? null : Integer.valueOf(cell));
          }
        }
        ByteBuffer encoded = encoder.encode(event);
        byte[] value = new byte[encoded.remaining()];
        encoded.get(value);
        sent.add(producer.send(new ProducerRecord<>(topic, practice + ":" + day, value)));
      }
      producer.flush();
      for (Future<RecordMetadata> delivery : sent) {
        delivery.get();
      }
      System.out.printf("sent %d records to %s%n", sent.size(), topic);
    }
  }

  private static Properties properties(Map<String, String> options) {
    Properties props = new Properties();
    props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, required(options, "--bootstrap"));
    props.put(ProducerConfig.ACKS_CONFIG, "all");
    props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
    props.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
    props.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
    String user = System.getenv("TRIAGE_KAFKA_USERNAME");
    if (user != null && !user.isEmpty()) {
      String password = System.getenv("TRIAGE_KAFKA_PASSWORD");
      // SASL_SSL (TLS) unless told otherwise; the broker's CA as a PEM file when it is not
      // in the JVM's trust store (e.g. the secure local stack's own CA).
      props.put(
          "security.protocol",
          System.getenv().getOrDefault("TRIAGE_KAFKA_SECURITY_PROTOCOL", "SASL_SSL"));
      String caFile = System.getenv("TRIAGE_KAFKA_CA_FILE");
      if (caFile != null && !caFile.isEmpty()) {
        props.put("ssl.truststore.type", "PEM");
        props.put("ssl.truststore.location", caFile);
      }
      props.put("sasl.mechanism", "SCRAM-SHA-512");
      props.put(
          "sasl.jaas.config",
          "org.apache.kafka.common.security.scram.ScramLoginModule required username=\""
              + user + "\" password=\"" + password + "\";");
    }
    return props;
  }

  private static Map<String, String> options(String[] args) {
    Map<String, String> options = new HashMap<>();
    for (int i = 0; i + 1 < args.length; i += 2) {
      options.put(args[i], args[i + 1]);
    }
    return options;
  }

  private static String required(Map<String, String> options, String name) {
    String value = options.get(name);
    if (value == null) {
      System.err.println("missing " + name + " (usage: --bootstrap HOST:PORT --topic TOPIC"
          + " --schema FILE.avsc --rows FILE.csv)");
      System.exit(2);
    }
    return value;
  }
}
